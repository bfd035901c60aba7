/**
 * `/api/payouts/holds`: compliance holds on creators' payouts, placed and released by finance and
 * compliance officers (`payouts:holds:manage`), read by everyone who reads payouts. Both the
 * placing and the release state a reason and are audited (the release reason lives in the audit
 * entry: the table keeps who and when). A hold stops new payouts from the next run on; money
 * already in flight is not touched (store.ts). The creator is not mailed: a hold may be part of a
 * fraud or legal inquiry; they see the `compliance_hold` refusal on their payouts.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newId } from '../../lib/ids'
import { cursorOf, encodeCursor, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { CreatorId } from '../methods/api'
import { holdFromRaw, type HoldRow, placeComplianceHold, type RawHold, releaseComplianceHold } from './store'

const HoldId = z.string().regex(/^poh_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payout hold id')
const Reason = z.string().trim().min(10, 'say why, in at least 10 characters').max(1000, 'at most 1000 characters')

const Hold = z
  .object({
    id: z.string(),
    creator_id: z.string(),
    reason: z.string(),
    open: z.boolean(),
    placed_by: z.string(),
    placed_at: z.iso.datetime(),
    released_by: z.string().nullable(),
    released_at: z.iso.datetime().nullable(),
  })
  .openapi('PayoutComplianceHold')

function holdView(h: HoldRow): z.infer<typeof Hold> {
  return {
    id: h.id,
    creator_id: h.creatorId,
    reason: h.reason,
    open: h.releasedAtMs === null,
    placed_by: h.placedBy,
    placed_at: new Date(h.placedAtMs).toISOString(),
    released_by: h.releasedBy,
    released_at: h.releasedAtMs === null ? null : new Date(h.releasedAtMs).toISOString(),
  }
}

const placeRoute = createRoute(
  withAccess(permission('payouts:holds:manage'), {
    method: 'post',
    path: '/holds',
    tags: ['payouts'],
    summary: 'Hold a creator’s payouts (new payouts stop; money in flight is not touched); audited',
    security: [{ bearer: [] }],
    request: { body: jsonBody(z.object({ creator_id: CreatorId, reason: Reason })) },
    responses: { 201: json('Placed', Hold), ...problemResponses(400, 401, 403, 422) },
  }),
)

const releaseRoute = createRoute(
  withAccess(permission('payouts:holds:manage'), {
    method: 'post',
    path: '/holds/{holdId}/release',
    tags: ['payouts'],
    summary: 'Release a hold (payouts resume when no other hold is open); audited with the reason',
    security: [{ bearer: [] }],
    request: { params: z.object({ holdId: HoldId }), body: jsonBody(z.object({ reason: Reason })) },
    responses: { 200: json('Released', Hold), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/holds',
    tags: ['payouts'],
    summary: 'Compliance holds, newest first, by creator and open or released',
    security: [{ bearer: [] }],
    request: {
      query: PageQuery.extend({
        creator_id: CreatorId.optional(),
        open: z.enum(['true', 'false']).optional().openapi({ description: 'true: open only; false: released only; absent: both' }),
      }),
    },
    responses: { 200: json('A page of holds', z.object({ items: z.array(Hold), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

export function registerHolds(app: OpenAPIHono<AppEnv>): void {
  app.openapi(placeRoute, async (c) => {
    const body = c.req.valid('json')
    const creator = await c.env.DB.prepare('SELECT id FROM creators WHERE id = ?').bind(body.creator_id).first<{ id: string }>()
    if (!creator) throw new ProblemError('VALIDATION_FAILED', { detail: `no creator ${body.creator_id}`, errors: [{ path: 'body.creator_id', message: 'no such creator' }] })
    const hold = await placeComplianceHold(c.env, { id: newId('payoutComplianceHold'), creatorId: creator.id, reason: body.reason, placedBy: authenticated(c).subject, nowMs: Date.now() })
    await audit(c, 'payouts.hold.place', `payout_hold:${hold.id}`, { creator_id: hold.creatorId, reason: hold.reason })
    return c.json(holdView(hold), 201)
  })

  app.openapi(releaseRoute, async (c) => {
    const { holdId } = c.req.valid('param')
    const { reason } = c.req.valid('json')
    const result = await releaseComplianceHold(c.env, holdId, authenticated(c).subject, Date.now())
    if (!result) throw new ProblemError('NOT_FOUND', { detail: `no payout hold ${holdId}` })
    if (!result.released) throw new ProblemError('CONFLICT', { detail: `payout hold ${holdId} was already released at ${new Date(result.hold.releasedAtMs!).toISOString()}` })
    await audit(c, 'payouts.hold.release', `payout_hold:${holdId}`, { creator_id: result.hold.creatorId, reason, placed_reason: result.hold.reason, held_ms: result.hold.releasedAtMs! - result.hold.placedAtMs })
    return c.json(holdView(result.hold), 200)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ id: HoldId }))
    const where: string[] = []
    const binds: unknown[] = []
    if (q.creator_id) (where.push('creator_id = ?'), binds.push(q.creator_id))
    if (q.open === 'true') where.push('released_at_ms IS NULL')
    if (q.open === 'false') where.push('released_at_ms IS NOT NULL')
    if (after) (where.push('id < ?'), binds.push(after.id))
    const { results } = await c.env.DB.prepare(`SELECT * FROM payout_compliance_holds ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
      .bind(...binds, q.limit + 1)
      .all<RawHold>()
    const page = results.slice(0, q.limit)
    return c.json({ items: page.map((r) => holdView(holdFromRaw(r))), next_cursor: results.length > q.limit ? encodeCursor({ id: page.at(-1)!.id }) : null }, 200)
  })
}
