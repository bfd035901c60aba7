/**
 * `/api/sso/*` routes of one-time codes (registered on the account API app).
 *
 * `GET /api/sso/dev/sms-outbox?to=<E.164>&limit=`: the SMS sandbox (sms-outbox.ts), newest first,
 * so developers and tests can read codes without an SMS provider. Like the mail outbox
 * (accounts/api-dev-outbox.ts) it answers 404 outside dev before any credential check, and needs an
 * admin or operator token even in dev. The guard is registered here for this path as well, so it
 * holds whatever order the account API registers its parts in.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, problemResponses } from '../../api/schemas'
import { permission, withAccess } from '../roles/access'
import type { AppEnv } from '../../edge/context'
import { E164 } from './phone'
import { smsOutboxFor } from './sms-outbox'

export const SmsOutboxQuery = z.object({
  // a `+` left unencoded in a query string arrives as a space: take it back
  to: z
    .string()
    .transform((v) => v.replace(/^ /, '+'))
    .pipe(E164)
    .openapi({ description: 'E.164 number, `+` URL-encoded as %2B', example: '+14155552671' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const SmsOutboxMessage = z
  .object({ id: z.number().int(), to: z.string(), body: z.string(), created_at: z.iso.datetime() })
  .openapi('SsoSmsOutboxMessage')

export const smsOutboxRoute = createRoute(withAccess(permission('sso:outbox:read', { devOnly: true }), {
  method: 'get',
  path: '/dev/sms-outbox',
  tags: ['dev'],
  summary: 'Text messages the dev SMS sandbox holds for one number, newest first (dev only)',
  security: [{ bearer: [] }],
  request: { query: SmsOutboxQuery },
  responses: {
    200: json('Messages, newest first', z.object({ items: z.array(SmsOutboxMessage) })),
    ...problemResponses(400, 401, 403, 404),
  },
}))

export function registerOtpApi(app: OpenAPIHono<AppEnv>): void {
  // dev-only and the outbox permission: both come from the /dev/* guard in accounts/api-dev-outbox.ts
  app.openapi(smsOutboxRoute, async (c) => {
    const { to, limit } = c.req.valid('query')
    const rows = await smsOutboxFor(c.env.DB, to, limit)
    return c.json({ items: rows.map((m) => ({ id: m.id, to: m.toE164, body: m.body, created_at: new Date(m.createdAtMs).toISOString() })) }, 200)
  })
}
