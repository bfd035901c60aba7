/**
 * MID health as plain data for the routing engine: `midHealthView(env, midId)` reads the MID's row
 * (status, cap) and asks its MerchantHealth object for the running month's standing and volume.
 * @module
 */
import type { MastercardLevel, VisaLevel } from './thresholds'
import { findMid, type MidStatus } from './mids'

/** The MID's MerchantHealth object (one per MID, by name). */
export function merchantHealth(env: Env, midId: string) {
  return env.MERCHANT_HEALTH.getByName(`mid:${midId}`)
}

export interface MidHealthView {
  midId: string
  /**
   * Send no new traffic: a ratio is over or within the configured margin of a draining threshold,
   * or the MID is not `active` (draining, disabled, or unknown: fail closed).
   */
  drain: boolean
  level: { visa: VisaLevel; mastercard: MastercardLevel; mastercardEfm: boolean }
  /** the monthly cap left in `capCurrency` minor units (never below 0), null when the MID has no cap */
  capRemainingMinor: number | null
  capCurrency: string | null
  status: MidStatus | 'unknown'
  /** why `drain` is set */
  reasons: string[]
}

export async function midHealthView(env: Env, midId: string, options: { nowMs?: number } = {}): Promise<MidHealthView> {
  const row = await findMid(env.DB, midId)
  if (!row) {
    return {
      midId,
      drain: true,
      level: { visa: 'standard', mastercard: 'none', mastercardEfm: false },
      capRemainingMinor: 0,
      capCurrency: null,
      status: 'unknown',
      reasons: ['no such MID'],
    }
  }
  const stub = merchantHealth(env, midId)
  const nowMs = options.nowMs ?? Date.now()
  const capped = row.monthlyCapMinor !== null && row.capCurrency !== null
  const [result, usage] = await Promise.all([stub.standing({ nowMs }), capped ? stub.capUsage(row.capCurrency!, { nowMs }) : Promise.resolve(null)])
  if (!result.ok) throw new Error(`MerchantHealth.standing: ${result.code} ${result.message}`)
  const s = result.standing
  const reasons = [...s.reasons]
  if (row.status !== 'active') reasons.push(`status: ${row.status}`)
  return {
    midId,
    drain: s.drain || row.status !== 'active',
    level: { visa: s.visa.level, mastercard: s.mastercard.level, mastercardEfm: s.mastercard.efm.met },
    capRemainingMinor: capped && usage ? Math.max(0, row.monthlyCapMinor! - usage.usedMinor) : null,
    capCurrency: capped ? row.capCurrency : null,
    status: row.status,
    reasons,
  }
}
