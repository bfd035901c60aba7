/**
 * Refusals: why a creator was not paid. The creator reads their own
 * (`GET /api/payouts/creators/{creatorId}/refusals`, `payouts:self`); operators read all, by run,
 * code or creator (`GET /api/payouts/refusals`, `payouts:read`). Newest first. Registered by
 * runs/api.ts (`registerRuns`).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { payoutCreator } from '../access'
import { REFUSAL_CODES } from './decide'
import { refusalView, type RefusalRow } from './refusals'

export const RefusalView = z
  .object({
    id: z.string(),
    run_id: z.string().nullable().openapi({ description: 'null for an instant payout refused on request' }),
    creator_id: z.string(),
    code: z.enum(REFUSAL_CODES),
    detail: z.string(),
    at: z.iso.datetime(),
  })
  .openapi('PayoutRefusal')

const Page = z.object({ items: z.array(RefusalView), next_cursor: z.string().nullable() })

const CreatorParams = z.object({
  creatorId: z.string().regex(/^crt_[0-9A-Z]{26}$/, 'a creator id (crt_...)').openapi({ param: { name: 'creatorId', in: 'path' } }),
})

const ownRoute = createRoute(
  withAccess(permission('payouts:self'), {
    method: 'get',
    path: '/creators/{creatorId}/refusals',
    tags: ['payouts'],
    summary: 'Why your payouts were not made (newest first)',
    security: [{ bearer: [] }],
    request: { params: CreatorParams, query: PageQuery },
    responses: { 200: json('A page of refusals', Page), ...problemResponses(400, 401, 403, 404) },
  }),
)

const listRoute = createRoute(
  withAccess(permission('payouts:read'), {
    method: 'get',
    path: '/refusals',
    tags: ['payouts'],
    summary: 'Payout refusals by run, code or creator (operators)',
    security: [{ bearer: [] }],
    request: {
      query: PageQuery.extend({
        run_id: z.string().regex(/^prn_[0-9A-Z]{26}$/, 'a payout run id (prn_...)').optional(),
        code: z.enum(REFUSAL_CODES).optional(),
        creator_id: z.string().regex(/^crt_[0-9A-Z]{26}$/, 'a creator id (crt_...)').optional(),
      }),
    },
    responses: { 200: json('A page of refusals', Page), ...problemResponses(400, 401, 403) },
  }),
)

export function registerRefusals(app: OpenAPIHono<AppEnv>): void {
  app.openapi(ownRoute, async (c) => {
    // the creator, or an operator holding payouts:read
    const creator = await payoutCreator(c, c.req.valid('param').creatorId)
    const q = c.req.valid('query')
    const page = await newestFirstPage<RefusalRow>(c.env.DB, { from: 'payout_refusals', filters: [['creator_id', creator.id]], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(refusalView) as z.infer<typeof RefusalView>[], next_cursor: page.next_cursor }, 200)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<RefusalRow>(c.env.DB, {
      from: 'payout_refusals',
      filters: [
        ['run_id', q.run_id],
        ['code', q.code],
        ['creator_id', q.creator_id],
      ],
      cursor: q.cursor,
      limit: q.limit,
    })
    return c.json({ items: page.rows.map(refusalView) as z.infer<typeof RefusalView>[], next_cursor: page.next_cursor }, 200)
  })
}
