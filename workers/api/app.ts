/**
 * `/api/*`, served on every host: each subsystem's OpenAPIHono app mounted under its prefix, one
 * body-size limit, and the OpenAPI 3.1 document generated from the zod schemas.
 * @module
 */
import { bodyLimit } from 'hono/body-limit'
import { complianceApi } from '../compliance/api'
import { ProblemError } from '../edge/problem'
import { createSurfaceApp } from '../edge/surface'
import { routingApi } from '../routing/api'
import { ssoApi } from '../sso/accounts/api'
import { midsApi } from '../payments/health/api'
import { paymentsApi } from '../payments/api'
import { payoutsApi } from '../payouts/api'
import { mediaApi } from '../media/api'
import { MEDIA_CHUNK_MAX_BYTES } from '../media/limits'
import { vaultApi } from '../vault/api'
import { ledgerApi } from '../ledger/api'
import { devApi } from '../sso/dev-api'
import { renderDocs } from './docs'
import { edgeInfoApi } from './edge-info'

/** JSON bodies above this are refused with 413 before anything parses them. */
export const MAX_JSON_BODY_BYTES = 256 * 1024

/** The few routes that take files get their own ceiling (each route checks its own, lower, limit too). */
export const LARGE_BODY_ROUTES: ReadonlyArray<{ path: string; maxBytes: number; prefix?: true }> = [
  // a month of camt.053 for a busy receiving account runs to a few MB
  { path: '/api/payments/bank-statements', maxBytes: 8 * 1024 * 1024 },
  // ID documents, releases, depiction copies: phone photos and scans
  { path: '/api/vault/documents', maxBytes: 26 * 1024 * 1024 },
  // a bank's return file (NACHA) or status report (pain.002) for a large payout day
  { path: '/api/payouts/returns/ach', maxBytes: 8 * 1024 * 1024 },
  { path: '/api/payouts/returns/sepa', maxBytes: 8 * 1024 * 1024 },
  // media: tus PATCH chunks and multipart parts stay under Cloudflare's 100 MB request ceiling;
  // packager output (segments, keyframes) and hash-list files (a million lines) likewise
  { path: '/api/media/uploads/', maxBytes: MEDIA_CHUNK_MAX_BYTES, prefix: true },
  { path: '/api/media/packager/', maxBytes: MEDIA_CHUNK_MAX_BYTES, prefix: true },
  { path: '/api/media/hash-lists/', maxBytes: MEDIA_CHUNK_MAX_BYTES, prefix: true },
  // a leaked copy to trace (an image, or a list of segment digests)
  { path: '/api/media/leaks/', maxBytes: 52 * 1024 * 1024, prefix: true },
]

/** The body ceiling of a path (exact match unless the entry is a prefix: the JSON routes under a file route keep the JSON limit). */
export const bodyLimitFor = (path: string): number => LARGE_BODY_ROUTES.find((r) => (r.prefix ? path.startsWith(r.path) : r.path === path))?.maxBytes ?? MAX_JSON_BODY_BYTES

export const apiApp = createSurfaceApp()

apiApp.use('/api/*', (c, next) => {
  // Hono's bodyLimit buffers a body without Content-Length whole (up to 96 MiB here) and turns a
  // dropped connection into a 500; upload handlers stream and refuse bytes past Upload-Length or
  // the part size themselves, and keep what arrived before a break (tus resumes from it): tus PATCH
  // and multipart part PUT stream, every other request keeps the ceiling
  if ((c.req.method === 'PATCH' || c.req.method === 'PUT') && c.req.path.startsWith('/api/media/uploads/') && !c.req.raw.headers.has('content-length')) return next()
  const maxSize = bodyLimitFor(c.req.path)
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `request bodies here are limited to ${maxSize} bytes` })
    },
  })(c, next)
})

apiApp.route('/api/routing', routingApi)
apiApp.route('/api/compliance', complianceApi)
apiApp.route('/api/dev', devApi)
apiApp.route('/api/sso', ssoApi)
apiApp.route('/api/payments/mids', midsApi)
apiApp.route('/api/payments', paymentsApi)
apiApp.route('/api/ledger', ledgerApi)
apiApp.route('/api/vault', vaultApi)
apiApp.route('/api/payouts', payoutsApi)
apiApp.route('/api/media', mediaApi)
apiApp.route('/api/edge', edgeInfoApi)

apiApp.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'Access token from FanzSSO (locally: `npm run token -- --role admin`)',
})

const info = {
  title: 'FANZ platform API',
  version: '0.1.0',
  description: 'One API for the FANZ brands, served at /api on every host. Errors are RFC 9457 problem+json.',
}

apiApp.doc31('/api/openapi.json', (c) => ({
  openapi: '3.1.0',
  info,
  servers: [{ url: new URL(c.req.url).origin }],
}))

apiApp.get('/api/docs', (c) => c.html(renderDocs(apiApp.getOpenAPI31Document({ openapi: '3.1.0', info }), c.var.secureHeadersNonce)))

apiApp.get('/api', (c) => c.redirect('/api/docs', 302))
