/**
 * `GET /api/routing/analytics`: request counts grouped by brand, hostname, country, status or latency
 * bucket over a time window, from whichever sink this environment uses.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { json, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { analyticsSink, GROUP_BY } from './analytics'
import { Hostname, iso } from './schemas'

const DAY_MS = 86_400_000
const MAX_RANGE_MS = 92 * DAY_MS

const AnalyticsQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'inclusive; default 24 hours before `to`' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'exclusive; default now' }),
  group_by: z.enum(GROUP_BY).default('hostname'),
  hostname: Hostname.optional(),
  brand: z.string().regex(/^[a-z0-9-()]{1,40}$/, 'must be a brand slug').optional(),
})

const AnalyticsReport = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    group_by: z.enum(GROUP_BY),
    source: z.enum(['analytics_engine', 'local']),
    total_requests: z.number().int(),
    items: z.array(z.object({ key: z.string(), requests: z.number().int(), avg_latency_ms: z.number() })),
  })
  .openapi('RoutingAnalytics')

export function registerAnalyticsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics',
      tags: ['routing'],
      security: [{ bearer: [] }],
      summary: 'Request counts per brand, hostname, country, status or latency bucket (one-minute resolution locally)',
      request: { query: AnalyticsQuerySchema },
      responses: { 200: json('Grouped counts, most requests first', AnalyticsReport), ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const toMs = q.to ? Date.parse(q.to) : Date.now()
      const fromMs = q.from ? Date.parse(q.from) : toMs - DAY_MS
      if (fromMs >= toMs) throw new ProblemError('BAD_REQUEST', { detail: 'from must be before to', errors: [{ path: 'query.from', message: 'must be before to' }] })
      if (toMs - fromMs > MAX_RANGE_MS) throw new ProblemError('BAD_REQUEST', { detail: 'the window is at most 92 days', errors: [{ path: 'query.from', message: 'at most 92 days before to' }] })
      const sink = analyticsSink(c.env)
      const rows = await sink.query({ fromMs, toMs, groupBy: q.group_by, hostname: q.hostname, brand: q.brand })
      return c.json(
        {
          from: iso(fromMs),
          to: iso(toMs),
          group_by: q.group_by,
          source: sink.kind,
          total_requests: rows.reduce((sum, r) => sum + r.requests, 0),
          items: rows.map((r) => ({ key: r.key, requests: r.requests, avg_latency_ms: r.requests ? Math.round((r.latencySumMs / r.requests) * 10) / 10 : 0 })),
        },
        200,
      )
    },
  )
}
