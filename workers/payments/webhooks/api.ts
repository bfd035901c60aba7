/**
 * `/api/payments/webhooks/{gateway}`: where gateways post. Public (the gateway authenticates by
 * signature or source IP + URL token, checked in ingest.ts), answered 200 once the events are
 * stored, duplicates included, so gateways stop retrying; then they are applied to the creator
 * ledger (apply.ts), and what cannot apply yet waits: nothing a gateway sent is lost.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { PUBLIC, withAccess } from '../../sso/roles/access'
import { GATEWAY_IDS } from '../gateways/registry'
import { applyEvents } from '../apply'
import { ingestPostback } from './ingest'

const Received = z
  .object({
    received: z.number().int().openapi({ description: 'events in this postback' }),
    new: z.number().int(),
    duplicates: z.number().int(),
  })
  .openapi('PaymentsPostbackReceived')

export const postbackRoute = createRoute(withAccess(PUBLIC, {
  method: 'post',
  path: '/webhooks/{gateway}',
  tags: ['payments'],
  summary: 'A gateway postback (signature, or source IP plus URL token, verified before parsing)',
  request: { params: z.object({ gateway: z.enum(GATEWAY_IDS as [string, ...string[]]) }) },
  responses: {
    200: json('Stored (or already stored): the gateway may stop retrying', Received),
    ...problemResponses(400, 404, 413, 422),
  },
}))

export function registerWebhooks(app: OpenAPIHono<AppEnv>): void {
  app.openapi(postbackRoute, async (c) => {
    const ingested = await ingestPostback(c, c.req.valid('param').gateway)
    // stored first, applied second: a failure while applying leaves the events for a retry
    if (ingested.inserted.length) await applyEvents(c.env, ingested.gateway, ingested.inserted.map((e) => e.eventId))
    return c.json({ received: ingested.inserted.length + ingested.duplicates, new: ingested.inserted.length, duplicates: ingested.duplicates }, 200)
  })
}
