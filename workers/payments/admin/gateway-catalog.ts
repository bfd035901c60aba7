/**
 * The gateways as checkout sees them: every gateway the registry has an adapter for, or finance has
 * terms for, with its `gateway_configs` row (switch, methods, contract fees), whether its
 * credentials are configured (`PAYMENT_GATEWAYS`, or derived for the sandboxes) and how many MIDs it
 * has. A gateway is offered only when all three hold: an adapter, switched on, and credentials;
 * `notOfferedBecause` says which one is missing, for the admin list and for routing reasons.
 * @module
 */
import { eq } from 'drizzle-orm'
import { gatewayConfigs } from '../../../d1/schema'
import type { Config } from '../../config'
import { db } from '../../lib/db'
import { GATEWAY_IDS, isGatewayId } from '../gateways/registry'
import type { GatewayId } from '../gateways/types'
import { PAYMENT_METHODS, type PaymentMethod } from '../routing'
import { gatewaySettings } from '../webhooks/settings'

export interface GatewayTerms {
  enabled: boolean
  methods: PaymentMethod[]
  processorFeeBps: number
  fixedFeeMinor: number
  chargebackFeeMinor: number
  feeCurrency: string
  updatedAtMs: number
  updatedBy: string | null
}

export interface CatalogEntry {
  gateway: string
  /** the registry has an adapter for it */
  adapter: boolean
  /** null: finance has entered no terms, so it is never offered */
  terms: GatewayTerms | null
  credentialsConfigured: boolean
  /** MIDs that are not disabled */
  mids: number
  /** null when checkout may offer it */
  notOfferedBecause: string | null
}

const isMethod = (m: unknown): m is PaymentMethod => typeof m === 'string' && (PAYMENT_METHODS as readonly string[]).includes(m)

export function methodsOf(json: string): PaymentMethod[] {
  try {
    const parsed: unknown = JSON.parse(json)
    return Array.isArray(parsed) ? parsed.filter(isMethod) : []
  } catch {
    return []
  }
}

export function termsOf(row: typeof gatewayConfigs.$inferSelect): GatewayTerms {
  return {
    enabled: row.enabled,
    methods: methodsOf(row.methodsJson),
    processorFeeBps: row.processorFeeBps,
    fixedFeeMinor: row.fixedFeeMinor,
    chargebackFeeMinor: row.chargebackFeeMinor,
    feeCurrency: row.feeCurrency,
    updatedAtMs: row.updatedAtMs,
    updatedBy: row.updatedBy,
  }
}

export async function gatewayTerms(d1: D1Database, gateway: string): Promise<GatewayTerms | null> {
  const row = await db(d1).select().from(gatewayConfigs).where(eq(gatewayConfigs.gateway, gateway)).get()
  return row ? termsOf(row) : null
}

/** True when the gateway's credentials are there (secrets are never read out, only their presence). */
async function hasCredentials(env: Env, config: Config, gateway: string): Promise<boolean> {
  if (!isGatewayId(gateway)) return false
  try {
    return (await gatewaySettings(env, config, gateway)) !== null
  } catch {
    // a malformed PAYMENT_GATEWAYS secret configures nothing
    return false
  }
}

function whyNotOffered(entry: Omit<CatalogEntry, 'notOfferedBecause'>): string | null {
  if (!entry.adapter) return 'no adapter for this gateway in this build'
  if (!entry.terms) return 'no contract terms in gateway_configs'
  if (!entry.terms.enabled) return 'disabled in gateway_configs'
  if (!entry.credentialsConfigured) return 'enabled, but no credentials configured (PAYMENT_GATEWAYS)'
  return null
}

/** Every known gateway in the registry's order, then gateways with terms but no adapter, by id. */
export async function gatewayCatalog(env: Env, config: Config): Promise<CatalogEntry[]> {
  const [rows, midCounts] = await Promise.all([
    db(env.DB).select().from(gatewayConfigs).all(),
    env.DB.prepare(`SELECT gateway, COUNT(*) AS n FROM merchant_ids WHERE status != 'disabled' GROUP BY gateway`).all<{ gateway: string; n: number }>(),
  ])
  const termsBy = new Map(rows.map((r) => [r.gateway, termsOf(r)]))
  const midsBy = new Map(midCounts.results.map((r) => [r.gateway, r.n]))
  const ids: string[] = [...GATEWAY_IDS, ...rows.map((r) => r.gateway).filter((g) => !isGatewayId(g)).sort()]
  return Promise.all(
    ids.map(async (gateway) => {
      const entry = {
        gateway,
        adapter: isGatewayId(gateway),
        terms: termsBy.get(gateway) ?? null,
        credentialsConfigured: await hasCredentials(env, config, gateway),
        mids: midsBy.get(gateway) ?? 0,
      }
      return { ...entry, notOfferedBecause: whyNotOffered(entry) }
    }),
  )
}

/** The catalog entries checkout may route to. */
export function offered(catalog: readonly CatalogEntry[]): Array<CatalogEntry & { gateway: GatewayId; terms: GatewayTerms }> {
  return catalog.filter((e): e is CatalogEntry & { gateway: GatewayId; terms: GatewayTerms } => e.notOfferedBecause === null)
}
