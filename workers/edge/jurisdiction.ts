/**
 * Jurisdiction policy for the visitor: the statutory age-verification table, then operator geo rules
 * for the brand (block, force the gate, route to a pool). Rules can only tighten the law, never lift it.
 * @module
 */
import { createMiddleware } from 'hono/factory'
import { statutoryPolicy, type JurisdictionPolicy } from '../compliance/jurisdictions'
import { getSnapshot, type GeoRuleView } from '../routing/snapshot'
import type { AppEnv, Geo } from './context'

export function applyGeoRules(policy: JurisdictionPolicy, rules: GeoRuleView[], geo: Geo, brandId: string | null): JurisdictionPolicy {
  if (!geo.country) return policy
  // most specific first: brand+region, brand+country, all+region, all+country
  const matching = rules
    .filter((r) => r.country === geo.country && (r.region === null || r.region === geo.region) && (r.brandId === null || r.brandId === brandId))
    .sort((a, b) => specificity(b) - specificity(a))
  let result = policy
  for (const rule of matching) {
    if (rule.action === 'block' && !result.blocked) result = { ...result, blocked: true, reason: `blocked by operator rule ${rule.id}` }
    if (rule.action === 'age_gate' && !result.gated) {
      result = { ...result, gated: true, key: result.key === 'none' ? `rule:${rule.id}` : result.key, reason: `age gate required by operator rule ${rule.id}`, methods: result.methods.length ? result.methods : ['ID_DOC', 'DIGITAL_ID', 'TXN_DATA'] }
    }
    if (rule.action === 'route' && rule.poolId && !result.routePoolId) result = { ...result, routePoolId: rule.poolId }
  }
  return result
}

function specificity(rule: GeoRuleView): number {
  return (rule.brandId ? 2 : 0) + (rule.region ? 1 : 0)
}

export const jurisdiction = createMiddleware<AppEnv>(async (c, next) => {
  const geo = c.var.geo
  let policy = statutoryPolicy(geo.country, geo.region, Date.now())
  if (c.var.surface === 'brand') {
    const snapshot = await getSnapshot(c.env.DB)
    if (snapshot.geoRules.length) policy = applyGeoRules(policy, snapshot.geoRules, geo, c.var.brand?.id ?? null)
  }
  c.set('jurisdiction', policy)
  await next()
})
