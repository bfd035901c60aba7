/**
 * Test data for the statement, site and FanzDash tests (imported by `*.test.ts` only): a fresh
 * creator on BoyFanz with a funded ledger, an ACH method, one payout settled and one failed through
 * the real lifecycle (ledger hold placed, then posted or voided), and a recorded refusal.
 *
 * Figures: a 200.00 USD sale with no processor fee, 20% platform fee and 5% rolling reserve, paid
 * out at once (pendingDays 0): creator share 160.00, reserve 8.00, available 152.00. The settled
 * payout takes 50.00 (fee 0.25, net 49.75); the failed one (30.00) is voided, so available ends at
 * 102.00.
 * @module
 */
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { failPayout, placeHold, settlePayout } from '../lifecycle'
import { parsePayoutMethod } from '../methods/methods'
import { sealMethod } from '../methods/sealed'

export const BOYFANZ_BRAND = 'brd_01JFANZ0000000000000000001'
export const T0 = Date.UTC(2030, 0, 10, 12)
const DAY = 86_400_000

export interface Fixture {
  creatorId: string
  userId: string
  handle: string
  displayName: string
  methodId: string
  settledId: string
  failedId: string
  refusalId: string
}

const SYSTEM = (env: Env) => ({ env, actor: 'system:test' })

/** Inserts a payout row in `pending` with its ledger hold placed, as batching does. */
export async function pendingPayout(env: Env, p: { creatorId: string; methodId: string; amountMinor: number; feeMinor: number; createdAtMs: number; batchId?: string | null; rail?: string }): Promise<string> {
  const id = newId('payout')
  const hold = await placeHold(env, { id, creatorId: p.creatorId, currency: 'USD', amountMinor: p.amountMinor }, p.createdAtMs)
  if (!hold.ok) throw new Error(`hold refused: ${hold.code} ${hold.detail}`)
  await env.DB.prepare(
    `INSERT INTO payouts (id, creator_id, batch_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, hold_id, idempotency_key, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, NULL, ?, ?, 'scheduled', 'USD', ?, ?, ?, 'pending', ?, ?, ?, ?)`,
  )
    .bind(id, p.creatorId, p.batchId ?? null, p.methodId, p.rail ?? 'nacha', p.amountMinor, p.feeMinor, p.amountMinor - p.feeMinor, hold.holdId, `idem-${id}`, p.createdAtMs, p.createdAtMs)
    .run()
  return id
}

export async function seedCreatorWithPayouts(env: Env, options: { displayName?: string } = {}): Promise<Fixture> {
  const creatorId = newId('creator')
  const userId = newId('user')
  const handle = `p5_${creatorId.slice(-10).toLowerCase()}`
  const displayName = options.displayName ?? 'Remy Payee'
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(creatorId, BOYFANZ_BRAND, handle, displayName, '', userId, T0)
    .run()
  const sale = await ledgerFor(env, creatorId).sale(
    { opId: `sale:${creatorId}`, paymentId: `pay_${creatorId}`, currency: 'USD', grossMinor: 20_000, processorFeeMinor: 0, split: { platformFeeBps: 2000, reserveBps: 500, reserveDays: 90, pendingDays: 0 } },
    T0,
  )
  if (!sale.ok) throw new Error(`sale refused: ${sale.code}`)

  const methodId = newId('payoutMethod')
  const parsed = parsePayoutMethod({ type: 'ach', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking', accountHolderName: displayName })
  if (!parsed.ok) throw new Error('fixture method does not validate')
  await env.DB.prepare(
    `INSERT INTO payout_methods (id, creator_id, type, rail, currency, summary, details_sealed, usable_from_ms, is_default, created_by, created_at_ms)
     VALUES (?, ?, 'ach', 'nacha', 'USD', 'ACH checking •••• 6789', ?, ?, 1, ?, ?)`,
  )
    .bind(methodId, creatorId, await sealMethod(env, methodId, parsed.method), T0 + 3 * DAY, userId, T0)
    .run()

  const settledId = await pendingPayout(env, { creatorId, methodId, amountMinor: 5_000, feeMinor: 25, createdAtMs: T0 + 4 * DAY })
  await settlePayout(env, SYSTEM(env), settledId, { processorRef: 'TRACE-021000020000001' }, T0 + 5 * DAY)
  const failedId = await pendingPayout(env, { creatorId, methodId, amountMinor: 3_000, feeMinor: 25, createdAtMs: T0 + 6 * DAY })
  await failPayout(env, SYSTEM(env), failedId, { code: 'R03', reason: 'No account / unable to locate account' }, T0 + 7 * DAY)

  const refusalId = newId('payoutRefusal')
  await env.DB.prepare("INSERT INTO payout_refusals (id, run_id, creator_id, code, detail, at_ms) VALUES (?, NULL, ?, 'kyc_not_verified', 'no approved KYC verification', ?)")
    .bind(refusalId, creatorId, T0 + 8 * DAY)
    .run()
  return { creatorId, userId, handle, displayName, methodId, settledId, failedId, refusalId }
}
