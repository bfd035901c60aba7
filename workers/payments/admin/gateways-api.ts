/**
 * `/api/payments/gateways`: the gateways finance runs, with their switches and contract terms
 * (`gateway_configs`) and what checkout makes of them.
 * - `GET /gateways` (payments:gateways:read): every known gateway, its terms, whether its
 *   credentials are configured (presence only; secrets never leave `PAYMENT_GATEWAYS`), its MIDs,
 *   and whether checkout offers it, or why not.
 * - `PATCH /gateways/{gateway}` (payments:gateways:manage): switch it, set its methods and fees.
 *   The next sale's processor fee in the ledger follows (fees.ts reads the row). Enabling a gateway
 *   without credentials is allowed (credentials may be deployed after the contract is entered);
 *   checkout skips it and the list says why. Audited with before and after.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import type { JsonObject } from '../../lib/json'
import { permission, withAccess } from '../../sso/roles/access'
import { isCurrency } from '../currencies'
import { isGatewayId } from '../gateways/registry'
import { PAYMENT_METHODS } from '../routing'
import { gatewayCatalog, gatewayTerms, type CatalogEntry } from './gateway-catalog'

const tags = ['payments']

const GatewayParam = z.object({ gateway: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a gateway id (lowercase letters, digits, _ and -)') })

const Methods = z
  .array(z.enum(PAYMENT_METHODS))
  .min(1)
  .refine((list) => new Set(list).size === list.length, 'methods must not repeat')
  .openapi({ description: `what checkout may send through it: ${PAYMENT_METHODS.join(', ')}` })

const Terms = {
  enabled: z.boolean(),
  methods: Methods,
  /** percentage of every sale, basis points: 0..50.00% */
  processor_fee_bps: z.number().int().min(0).max(5000),
  fixed_fee_minor: z.number().int().safe().min(0).openapi({ description: 'per sale, minor units of fee_currency (only on sales in that currency)' }),
  chargeback_fee_minor: z.number().int().safe().min(0).openapi({ description: 'per chargeback, minor units of fee_currency' }),
  fee_currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code in capitals, e.g. USD', abort: true })
    .refine(isCurrency, 'not an ISO 4217 currency'),
}

const GatewayUpdate = z
  .object(Terms)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'name at least one field to change')
  .openapi('PaymentGatewayUpdate')

const GatewaySchema = z
  .object({
    gateway: z.string(),
    adapter: z.boolean().openapi({ description: 'this build has an adapter for it' }),
    configured: z.boolean().openapi({ description: 'finance has entered its terms (a gateway_configs row)' }),
    enabled: z.boolean(),
    methods: z.array(z.string()),
    processor_fee_bps: z.number().int().nullable(),
    fixed_fee_minor: z.number().int().nullable(),
    chargeback_fee_minor: z.number().int().nullable(),
    fee_currency: z.string().nullable(),
    credentials_configured: z.boolean().openapi({ description: 'its settings are present (never shown)' }),
    mids: z.number().int().openapi({ description: 'MIDs that are not disabled' }),
    offered: z.boolean().openapi({ description: 'checkout may route payments to it' }),
    not_offered_because: z.string().nullable(),
    updated_at: z.iso.datetime().nullable(),
    updated_by: z.string().nullable(),
  })
  .openapi('PaymentGateway')

type GatewayView = z.infer<typeof GatewaySchema>

function view(entry: CatalogEntry): GatewayView {
  const t = entry.terms
  return {
    gateway: entry.gateway,
    adapter: entry.adapter,
    configured: t !== null,
    enabled: t?.enabled ?? false,
    methods: t?.methods ?? [],
    processor_fee_bps: t?.processorFeeBps ?? null,
    fixed_fee_minor: t?.fixedFeeMinor ?? null,
    chargeback_fee_minor: t?.chargebackFeeMinor ?? null,
    fee_currency: t?.feeCurrency ?? null,
    credentials_configured: entry.credentialsConfigured,
    mids: entry.mids,
    offered: entry.notOfferedBecause === null,
    not_offered_because: entry.notOfferedBecause,
    updated_at: t ? new Date(t.updatedAtMs).toISOString() : null,
    updated_by: t?.updatedBy ?? null,
  }
}

const listRoute = createRoute(
  withAccess(permission('payments:gateways:read'), {
    method: 'get',
    path: '/gateways',
    tags,
    summary: 'Gateways with their switches, methods, contract fees, credentials presence, MIDs, and whether checkout offers them',
    responses: { 200: json('Every known gateway', z.object({ items: z.array(GatewaySchema) })), ...problemResponses(401, 403) },
  }),
)

const updateRoute = createRoute(
  withAccess(permission('payments:gateways:manage'), {
    method: 'patch',
    path: '/gateways/{gateway}',
    tags,
    summary: 'Switch a gateway, set its methods and contract fees (audited; the next sale uses the new fees)',
    request: { params: GatewayParam, body: jsonBody(GatewayUpdate) },
    responses: { 200: json('The gateway after the change', GatewaySchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  }),
)

async function entryOf(c: Context<AppEnv>, gateway: string): Promise<CatalogEntry | undefined> {
  return (await gatewayCatalog(c.env, c.var.config)).find((e) => e.gateway === gateway)
}

export function registerGatewaysAdmin(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => c.json({ items: (await gatewayCatalog(c.env, c.var.config)).map(view) }, 200))

  app.openapi(updateRoute, async (c) => {
    const { gateway } = c.req.valid('param')
    const body = c.req.valid('json')
    const current = await gatewayTerms(c.env.DB, gateway)
    if (!current && !isGatewayId(gateway)) throw new ProblemError('NOT_FOUND', { detail: `no gateway ${gateway}` })
    const before = await entryOf(c, gateway)
    const nowMs = Math.max(Date.now(), (current?.updatedAtMs ?? 0) + 1)
    const actor = c.var.auth?.subject ?? null
    if (!current) {
      // first terms for a gateway the build knows: the contract has to be complete
      const missing = (['methods', 'processor_fee_bps', 'chargeback_fee_minor', 'fee_currency'] as const).filter((k) => body[k] === undefined)
      if (missing.length) {
        throw new ProblemError('VALIDATION_FAILED', {
          detail: `gateway ${gateway} has no terms yet: give ${missing.join(', ')}`,
          errors: missing.map((k) => ({ path: `body.${k}`, message: 'required when a gateway gets its first terms' })),
        })
      }
      const inserted = await c.env.DB.prepare(
        `INSERT INTO gateway_configs (gateway, enabled, methods_json, processor_fee_bps, fixed_fee_minor, chargeback_fee_minor, fee_currency, updated_at_ms, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gateway) DO NOTHING`,
      )
        .bind(gateway, body.enabled ? 1 : 0, JSON.stringify(body.methods), body.processor_fee_bps, body.fixed_fee_minor ?? 0, body.chargeback_fee_minor, body.fee_currency, nowMs, actor)
        .run()
      if (!inserted.meta.changes) throw new ProblemError('CONFLICT', { detail: `gateway ${gateway} got its terms meanwhile; read it again and retry` })
    } else {
      // compare-and-set on the last update: two finance users editing at once do not overwrite each other silently
      const updated = await c.env.DB.prepare(
        `UPDATE gateway_configs SET enabled = ?, methods_json = ?, processor_fee_bps = ?, fixed_fee_minor = ?, chargeback_fee_minor = ?, fee_currency = ?, updated_at_ms = ?, updated_by = ?
         WHERE gateway = ? AND updated_at_ms = ?`,
      )
        .bind(
          (body.enabled ?? current.enabled) ? 1 : 0,
          JSON.stringify(body.methods ?? current.methods),
          body.processor_fee_bps ?? current.processorFeeBps,
          body.fixed_fee_minor ?? current.fixedFeeMinor,
          body.chargeback_fee_minor ?? current.chargebackFeeMinor,
          body.fee_currency ?? current.feeCurrency,
          nowMs,
          actor,
          gateway,
          current.updatedAtMs,
        )
        .run()
      if (!updated.meta.changes) throw new ProblemError('CONFLICT', { detail: `gateway ${gateway} changed meanwhile; read it again and retry` })
    }
    const after = await entryOf(c, gateway)
    const afterView = view(after!)
    const beforeView = before ? view(before) : null
    const { updated_at: _a, updated_by: _b, ...afterTerms } = afterView
    const beforeTerms = beforeView ? (({ updated_at: _c, updated_by: _d, ...rest }) => rest)(beforeView) : null
    await audit(c, 'payments.gateway.update', gateway, { before: beforeTerms as JsonObject | null, after: afterTerms as JsonObject, changed: Object.keys(body) })
    return c.json(afterView, 200)
  })
}
