/**
 * `GET /api/sso/dev/outbox?to=`: the dev outbox (mail/outbox.ts), newest first, so developers and
 * tests can follow verification and reset links without a mail provider. Answers 404 outside dev
 * (before any credential check, like /api/dev), and needs `sso:outbox:read` (admin, operator) even in dev.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { createMiddleware } from 'hono/factory'
import { json, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { permission, withAccess } from '../roles/access'
import { requirePermission } from '../roles/middleware'
import { outboxFor } from '../mail/outbox'
import { OutboxMessage, OutboxQuery } from './api-schemas'

export const outboxRoute = createRoute(withAccess(permission('sso:outbox:read', { devOnly: true }), {
  method: 'get',
  path: '/dev/outbox',
  tags: ['dev'],
  summary: 'Mail the dev outbox holds for one address, newest first (dev only)',
  security: [{ bearer: [] }],
  request: { query: OutboxQuery },
  responses: {
    200: json('Messages, newest first', z.object({ items: z.array(OutboxMessage) })),
    ...problemResponses(400, 401, 403, 404),
  },
}))

export function registerDevOutbox(app: OpenAPIHono<AppEnv>): void {
  app.use(
    '/dev/*',
    createMiddleware<AppEnv>(async (c, next) => {
      if (!c.var.config.isDev) throw new ProblemError('NOT_FOUND', { detail: `nothing at ${c.req.path}` })
      await next()
    }),
    // every dev route here reads someone's mail or texts: the outbox permission guards them all,
    // including routes registered later that forget to declare their own access
    requirePermission('sso:outbox:read'),
  )
  app.openapi(outboxRoute, async (c) => {
    const { to, limit } = c.req.valid('query')
    const rows = await outboxFor(c.env.DB, to, limit)
    return c.json(
      {
        items: rows.map((m) => ({ id: m.id, to: m.toAddress, from: m.fromAddress, subject: m.subject, text: m.textBody, html: m.htmlBody, created_at: new Date(m.createdAtMs).toISOString() })),
      },
      200,
    )
  })
}
