/**
 * `/api/payments/routing`: the smart router's configuration, versioned (admin/routing-configs.ts).
 * - `GET /routing/config`: the active version and its configuration.
 * - `GET /routing/configs`: every version, newest first (cursor pages).
 * - `POST /routing/configs` (Idempotency-Key): `{ config, note }`; the config is validated by the
 *   engine's own `routingConfigSchema`, and every gateway it names must have terms in
 *   `gateway_configs`; it becomes version n+1 and the active one in one transaction. Audited.
 * - `POST /routing/configs/{version}/activate`: roll back or forward to a stored version. Audited.
 * - `POST /routing/simulate`: what the router would decide for a payment, with candidates,
 *   exclusions and reasons, without opening a payment (under the active or a named version).
 * Writes need `payments:routing:manage`; reads and the simulator `payments:read`, which every holder
 * of `payments:routing:manage` (finance) also has.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError, type FieldError } from '../../edge/problem'
import { withIdempotency } from '../../lib/idempotency'
import type { JsonObject } from '../../lib/json'
import { cursorOf, encodeCursor, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { routePayment } from '../checkout'
import { CARD_NETWORKS, PAYMENT_METHODS, paymentContextSchema, routingConfigSchema, type PaymentContext, type RoutingConfig } from '../routing'
import { activateRoutingConfig, activeRoutingConfig, createRoutingConfig, listRoutingConfigs, routingConfigVersion, type RoutingConfigVersion } from './routing-configs'

const tags = ['payments']
const readers = permission('payments:read')
const managers = permission('payments:routing:manage')

const ConfigVersion = z
  .object({
    version: z.number().int(),
    active: z.boolean(),
    note: z.string(),
    created_by: z.string().nullable(),
    created_at: z.iso.datetime(),
    config: z.record(z.string(), z.unknown()).openapi({ description: 'a RoutingConfig: rules, defaultOrder, successRate, elimination' }),
  })
  .openapi('RoutingConfigVersion')

const ConfigCreate = z
  .object({
    config: routingConfigSchema,
    note: z.string().trim().max(500).default('').openapi({ description: 'why this version (shown in the history)' }),
  })
  .strict()
  .openapi('RoutingConfigCreate')

const VersionParam = z.object({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) })

const Simulate = z
  .object({
    brand_id: z.string().regex(/^brd_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a brand id (brd_...)'),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. DE'),
    region: z.string().regex(/^[A-Z0-9]{1,3}$/, 'ISO 3166-2 subdivision suffix, e.g. CA').optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. EUR'),
    amount_minor: z.number().int().safe().positive(),
    method: z.enum(PAYMENT_METHODS).default('card'),
    card_network: z.enum(CARD_NETWORKS).optional(),
    bin: z.string().regex(/^[0-9]{6,8}$/, '6 to 8 digits').optional(),
    version: z.number().int().min(1).optional().openapi({ description: 'decide under this stored version instead of the active one' }),
    seed: z.string().min(1).max(100).default('simulate').openapi({ description: 'the RNG seed (checkout seeds with the payment id): the same seed gives the same draw' }),
  })
  .strict()
  .openapi('RoutingSimulation')

const Decision = z
  .object({
    version: z.number().int(),
    segment: z.string(),
    rule_id: z.string().nullable(),
    explored: z.boolean(),
    candidates: z.array(z.object({ gateway: z.string(), mid_id: z.string(), reasons: z.array(z.string()) })),
    excluded: z.array(z.object({ gateway: z.string(), mid_id: z.string().nullable(), reason: z.string() })),
    reasons: z.array(z.string()),
  })
  .openapi('RoutingDecision')

function versionJson(v: RoutingConfigVersion): z.infer<typeof ConfigVersion> {
  return { version: v.version, active: v.active, note: v.note, created_by: v.createdBy, created_at: new Date(v.createdAtMs).toISOString(), config: v.config as unknown as Record<string, unknown> }
}

/** Every gateway the config names, with where it is named. */
function namedGateways(config: RoutingConfig): Array<{ gateway: string; path: string }> {
  const named = config.defaultOrder.map((gateway, i) => ({ gateway, path: `body.config.defaultOrder.${i}` }))
  config.rules.forEach((rule, r) => {
    const output = rule.output
    if (output.type === 'priority') output.gateways.forEach((gateway, i) => named.push({ gateway, path: `body.config.rules.${r}.output.gateways.${i}` }))
    else output.splits.forEach((split, i) => named.push({ gateway: split.gateway, path: `body.config.rules.${r}.output.splits.${i}.gateway` }))
  })
  return named
}

async function assertGatewaysKnown(c: Context<AppEnv>, config: RoutingConfig): Promise<void> {
  const known = new Set((await c.env.DB.prepare('SELECT gateway FROM gateway_configs').all<{ gateway: string }>()).results.map((r) => r.gateway))
  const errors: FieldError[] = namedGateways(config)
    .filter((n) => !known.has(n.gateway))
    .map((n) => ({ path: n.path, message: `no gateway ${n.gateway} in gateway_configs` }))
  if (errors.length) throw new ProblemError('VALIDATION_FAILED', { detail: `unknown gateways: ${[...new Set(errors.map((e) => e.message.slice('no gateway '.length).split(' ')[0]))].join(', ')}`, errors })
}

const activeRoute = createRoute(
  withAccess(readers, {
    method: 'get',
    path: '/routing/config',
    tags,
    summary: 'The active routing configuration and its version',
    responses: { 200: json('The active version', ConfigVersion), ...problemResponses(401, 403, 404) },
  }),
)

const listRoute = createRoute(
  withAccess(readers, {
    method: 'get',
    path: '/routing/configs',
    tags,
    summary: 'Routing configuration versions, newest first',
    request: { query: PageQuery },
    responses: { 200: json('A page of versions', z.object({ items: z.array(ConfigVersion), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const createConfigRoute = createRoute(
  withIdempotency(
    withAccess(managers, {
      method: 'post',
      path: '/routing/configs',
      tags,
      summary: 'Add a routing configuration version and activate it (audited)',
      request: { body: jsonBody(ConfigCreate) },
      responses: { 201: json('The new active version', ConfigVersion), ...problemResponses(400, 401, 403, 409, 415, 422) },
    }),
  ),
)

const activateRoute = createRoute(
  withAccess(managers, {
    method: 'post',
    path: '/routing/configs/{version}/activate',
    tags,
    summary: 'Make a stored version the active one: roll back or forward (audited)',
    request: { params: VersionParam },
    responses: { 200: json('The version, now active', ConfigVersion), ...problemResponses(400, 401, 403, 404) },
  }),
)

const simulateRoute = createRoute(
  withAccess(readers, {
    method: 'post',
    path: '/routing/simulate',
    tags,
    summary: 'What the router would decide for a payment (candidates, exclusions, reasons); opens nothing',
    request: { body: jsonBody(Simulate) },
    responses: { 200: json('The decision', Decision), ...problemResponses(400, 401, 403, 404, 415, 422) },
  }),
)

export function registerRoutingAdmin(app: OpenAPIHono<AppEnv>): void {
  app.openapi(activeRoute, async (c) => {
    const { version } = await activeRoutingConfig(c.env.DB)
    const stored = version ? await routingConfigVersion(c.env.DB, version) : null
    if (!stored) throw new ProblemError('NOT_FOUND', { detail: 'no routing configuration is active (checkout uses the built-in fallback)' })
    return c.json(versionJson(stored), 200)
  })

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ before: z.number().int() }))
    const rows = await listRoutingConfigs(c.env.DB, { beforeVersion: after?.before, limit: q.limit + 1 })
    const items = rows.slice(0, q.limit)
    const last = items.at(-1)
    return c.json({ items: items.map(versionJson), next_cursor: rows.length > q.limit && last ? encodeCursor({ before: last.version }) : null }, 200)
  })

  app.openapi(createConfigRoute, async (c) => {
    const body = c.req.valid('json')
    await assertGatewaysKnown(c, body.config)
    const { version, previous } = await createRoutingConfig(c.env.DB, { config: body.config, note: body.note, createdBy: c.var.auth?.subject ?? null, nowMs: Date.now() })
    await audit(c, 'payments.routing.create', `routing_config:${version}`, { version, previous, note: body.note, config: body.config as unknown as JsonObject })
    const stored = await routingConfigVersion(c.env.DB, version)
    return c.json(versionJson(stored!), 201)
  })

  app.openapi(activateRoute, async (c) => {
    const { version } = c.req.valid('param')
    const result = await activateRoutingConfig(c.env.DB, version)
    if (!result) throw new ProblemError('NOT_FOUND', { detail: `no routing configuration version ${version}` })
    await audit(c, 'payments.routing.activate', `routing_config:${version}`, { version, previous: result.previous })
    const stored = await routingConfigVersion(c.env.DB, version)
    return c.json(versionJson(stored!), 200)
  })

  app.openapi(simulateRoute, async (c) => {
    const body = c.req.valid('json')
    const ctx: PaymentContext = paymentContextSchema.parse({
      brand: body.brand_id,
      country: body.country,
      currency: body.currency,
      amountMinor: body.amount_minor,
      method: body.method,
      ...(body.region !== undefined ? { region: body.region } : {}),
      ...(body.card_network !== undefined ? { cardNetwork: body.card_network } : {}),
      ...(body.bin !== undefined ? { bin: body.bin } : {}),
    })
    let routing: { version: number; config: RoutingConfig } | undefined
    if (body.version !== undefined) {
      const stored = await routingConfigVersion(c.env.DB, body.version)
      if (!stored) throw new ProblemError('NOT_FOUND', { detail: `no routing configuration version ${body.version}`, errors: [{ path: 'body.version', message: 'no such version' }] })
      routing = { version: stored.version, config: stored.config }
    }
    const { decision, version } = await routePayment(c.env, c.var.config, ctx, body.seed, routing ? { routing } : {})
    return c.json(
      {
        version,
        segment: decision.segment,
        rule_id: decision.ruleId,
        explored: decision.explored,
        candidates: decision.candidates.map((x) => ({ gateway: x.gateway, mid_id: x.midId, reasons: x.reasons })),
        excluded: decision.excluded.map((x) => ({ gateway: x.gateway, mid_id: x.midId, reason: x.reason })),
        reasons: decision.reasons,
      },
      200,
    )
  })
}
