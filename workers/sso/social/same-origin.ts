/**
 * Form posts that change state on the SSO host must come from the SSO host's own pages. The
 * expected origin is built from the configured issuer (plus the dev port), never from `Host`
 * (sso.md X2); `Sec-Fetch-Site`, when the browser sends it, must agree.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ssoUrl } from '../../site/links'

export function ssoOrigin(c: Context<AppEnv>): string {
  return new URL(ssoUrl(c, '/')).origin
}

export function isSsoSameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (!origin || origin !== ssoOrigin(c)) return false
  const site = c.req.header('sec-fetch-site')
  return !site || site === 'same-origin'
}
