/**
 * Which age-verification methods a visitor may use: the methods this platform can run through a
 * provider, intersected with what the visitor's jurisdiction accepts (workers/compliance/jurisdictions.ts,
 * compliance.md §5). The table is the only authority: FAE appears only where a row lists it (GB,
 * AU, EU, US-MO), never from a US default.
 * @module
 */
import type { AvMethod, JurisdictionPolicy } from '../../compliance/jurisdictions'
import type { Geo } from '../../edge/context'

/** Methods a connected provider (sandbox or Yoti) can run today. */
export const SUPPORTED_METHODS = ['ID_DOC', 'FAE', 'CC', 'DIGITAL_ID'] as const satisfies readonly AvMethod[]
export type SupportedMethod = (typeof SUPPORTED_METHODS)[number]

export function isSupportedMethod(value: string): value is SupportedMethod {
  return (SUPPORTED_METHODS as readonly string[]).includes(value)
}

/**
 * Methods offered to this visitor. Where no law applies (not gated) a visitor may still verify,
 * e.g. before travelling: every supported method except FAE alone, which needs a row that accepts it.
 */
export function acceptedMethods(policy: JurisdictionPolicy): SupportedMethod[] {
  if (!policy.gated) return SUPPORTED_METHODS.filter((m) => m !== 'FAE')
  return SUPPORTED_METHODS.filter((m) => policy.methods.includes(m))
}

/** Methods the jurisdiction accepts that no connected provider runs (shown as unavailable). */
export function unavailableMethods(policy: JurisdictionPolicy): AvMethod[] {
  return policy.methods.filter((m) => !isSupportedMethod(m))
}

/** `US-TX`, `GB`, `unknown`: the place the check was made for, as stored on the verification. */
export function jurisdictionOf(geo: Geo): string {
  if (!geo.country || geo.country === 'XX' || geo.country === 'T1') return 'unknown'
  return geo.region ? `${geo.country}-${geo.region}` : geo.country
}
