/**
 * Eligibility: whether a creator is paid now, and how much, from the facts (facts.ts). Pure: the
 * run, the instant route and the tests call the same function. The checks, in order (the first
 * that fails is the recorded reason):
 *
 * 1. due        the rule pays today (`not_due` / `below_threshold`; only recorded when asked)
 * 2. KYC        verified: the newest approved verification, document not expired
 *               (`kyc_not_verified`, `kyc_expired`). "Age and identity verified" for a creator IS
 *               that approved KYC: the vault approves a verification only with the document's date
 *               of birth at 18 or more (under 18 declined, missing DOB sent to review), and the
 *               identity is the document's; there is no separate age check to pass for payouts
 * 3. hold       no open compliance hold (`compliance_hold`)
 * 4. in flight  no pending/queued payout in that currency (`payout_in_flight`)
 * 5. method     the rule's method, else the default: present and not removed (`no_method`), past
 *               its cool-off (`method_cooling_off`), a fee schedule for its rail in the currency
 *               (`rail_currency_unsupported`), instant offered for instant payouts (`instant_not_offered`)
 * 6. amount     the available balance (after the rolling reserve, which the ledger keeps apart)
 *               at or above the rail's minimum (`below_minimum`) and above the fee
 *               (`fee_exceeds_amount`); instant: the requested amount at most the available
 *               (`insufficient_funds`). The ledger hold placed afterwards is the final word: a
 *               refused hold is recorded as `insufficient_funds` too.
 * @module
 */
import { isFeeRefusal, quoteFee, type FeeSchedule } from '../fees/fees'
import { railConverts } from '../fees/schedule'
import { ruleDue } from '../rules/rules'
import { kycVerified, type CreatorFacts, type MethodFact } from './facts'

export const REFUSAL_CODES = [
  'not_due',
  'below_threshold',
  'kyc_not_verified',
  'kyc_expired',
  'compliance_hold',
  'payout_in_flight',
  'no_method',
  'method_cooling_off',
  'rail_currency_unsupported',
  'instant_not_offered',
  'above_instant_limit',
  'below_minimum',
  'above_maximum',
  'fee_exceeds_amount',
  'insufficient_funds',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

export interface PayDecision {
  ok: true
  creatorId: string
  method: MethodFact
  currency: string
  amountMinor: number
  feeMinor: number
  netMinor: number
  schedule: FeeSchedule
}

export interface Refusal {
  ok: false
  creatorId: string
  code: RefusalCode
  detail: string
}

export interface DecideOptions {
  runDate: string
  nowMs: number
  schedules: ReadonlyMap<string, FeeSchedule>
  /** the creator asked (operator run naming them, instant request): the rule's timing is not consulted */
  asked?: boolean
  /** an instant payout of this amount (else the whole available balance) */
  instant?: { amountMinor: number; currency: string; methodId: string | null }
}

const refuse = (creatorId: string, code: RefusalCode, detail: string): Refusal => ({ ok: false, creatorId, code, detail })

export function decide(f: CreatorFacts, o: DecideOptions): PayDecision | Refusal {
  const currency = o.instant?.currency ?? f.rule.currency
  const available = f.available.get(currency) ?? 0
  if (!o.asked) {
    const due = ruleDue(f.rule, o.runDate, available)
    if (!due.due) {
      return refuse(f.creatorId, due.reason, due.reason === 'below_threshold' ? `available ${available} ${currency} is below the threshold ${f.rule.thresholdMinor}` : `the ${f.rule.kind} rule does not pay on ${o.runDate}`)
    }
  }
  const kyc = kycVerified(f.kyc, o.nowMs)
  if (!kyc.verified) {
    return refuse(f.creatorId, kyc.code!, kyc.code === 'kyc_expired' ? 'the identity document of the approved KYC has expired' : `KYC is not verified (latest: ${kyc.status})`)
  }
  if (f.onHold) return refuse(f.creatorId, 'compliance_hold', 'an open compliance hold stops payouts')
  if (f.inFlight.has(currency)) return refuse(f.creatorId, 'payout_in_flight', `a ${currency} payout is already pending or queued`)
  const wanted = o.instant ? o.instant.methodId : f.rule.methodId
  const method = wanted ? f.methods.find((m) => m.id === wanted) : (f.methods.find((m) => m.isDefault) ?? f.methods[0])
  if (!method) return refuse(f.creatorId, 'no_method', wanted ? `payout method ${wanted} is removed or not the creator's` : 'no payout method')
  if (method.usableFromMs > o.nowMs) return refuse(f.creatorId, 'method_cooling_off', `method ${method.id} is usable from ${new Date(method.usableFromMs).toISOString()}`)
  const schedule = o.schedules.get(`${method.rail}:${currency}`)
  if (!schedule) return refuse(f.creatorId, 'rail_currency_unsupported', `${method.rail} does not pay ${currency}`)
  let amount = available
  if (o.instant) {
    if (o.instant.amountMinor > available) return refuse(f.creatorId, 'insufficient_funds', `${o.instant.amountMinor} asked, ${available} ${currency} available`)
    amount = o.instant.amountMinor
  } else if (schedule.maxPayoutMinor !== null && amount > schedule.maxPayoutMinor) {
    amount = schedule.maxPayoutMinor
  }
  // converts when the rail is not funded in the payout currency (fees/schedule.ts)
  const quote = quoteFee(schedule, amount, { instant: o.instant !== undefined, converts: railConverts(method.rail, currency) })
  if (isFeeRefusal(quote)) {
    return refuse(f.creatorId, quote.code, quote.code === 'below_minimum' && !o.instant ? `available ${available} ${currency}: ${quote.detail}` : quote.detail)
  }
  return { ok: true, creatorId: f.creatorId, method, currency, amountMinor: amount, feeMinor: quote.feeMinor, netMinor: quote.netMinor, schedule }
}
