/**
 * Security headers on every response, built on hono/secure-headers: a per-response CSP nonce,
 * frame-ancestors 'none', nosniff, a strict Referrer-Policy, a closed Permissions-Policy, and HSTS
 * (production only, since local hosts are plain http).
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { NONCE, secureHeaders } from 'hono/secure-headers'
import type { AppEnv } from './context'
import { isJsonApiPath } from './paths'

/** The SSO host as a CSP source; locally its port is whatever the dev server picked. */
const ssoOrigin = (c: Context) => {
  const config = (c.var as AppEnv['Variables']).config
  return config.isDev ? `${config.issuer}:*` : config.issuer
}

const HSTS_VALUE = 'max-age=63072000; includeSubDomains; preload'

function build(production: boolean): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: [NONCE, "'strict-dynamic'"],
      styleSrc: ["'self'", NONCE],
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
      // brand sign-out forms post to their own host, which redirects to the SSO host (form-action
      // governs those redirects too)
      formAction: ["'self'", ssoOrigin],
      ...(production ? { upgradeInsecureRequests: [] } : {}),
    },
    strictTransportSecurity: production ? HSTS_VALUE : false,
    referrerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    permissionsPolicy: {
      camera: false,
      microphone: false,
      geolocation: false,
      payment: false,
      usb: false,
      browsingTopics: false,
      publickeyCredentialsGet: ['self'],
    },
  })
}

const productionHeaders = build(true)
const devHeaders = build(false)


/**
 * JSON API answers are never rendered as documents, so they get the short set OWASP recommends for
 * APIs instead of the page set: no nonce to mint, a quarter of the bytes on every API response.
 */
function apiHeaders(headers: Headers, production: boolean): void {
  headers.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
  headers.set('x-content-type-options', 'nosniff')
  headers.set('x-frame-options', 'DENY')
  headers.set('referrer-policy', 'same-origin')
  headers.set('cross-origin-resource-policy', 'same-origin')
  if (production) headers.set('strict-transport-security', HSTS_VALUE)
}

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const production = c.var.config.isProduction
  if (!isJsonApiPath(c.req.path)) return (production ? productionHeaders : devHeaders)(c, next)
  await next()
  apiHeaders(c.res.headers, production)
})

/** Production answers plain http with a permanent redirect to https (the edge may also do it). */
export const httpsRedirect = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.config.isProduction) {
    const url = new URL(c.req.url)
    const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(':', '')
    if (proto === 'http') {
      url.protocol = 'https:'
      return c.redirect(url.toString(), 301)
    }
  }
  await next()
})
