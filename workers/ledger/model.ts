/**
 * The creator ledger's vocabulary, shared by the `CreatorLedger` Durable Object, its callers and its
 * tests: account codes and their normal side, transfer flags, the operations (zod schemas at the RPC
 * boundary) and their results, and the integer split arithmetic.
 *
 * Money is integer minor units of one ISO 4217 currency; one currency is one TigerBeetle "ledger":
 * transfers only ever join two accounts of the same currency (payments.md §4, L7).
 * @module
 */
import { z } from 'zod'

/** Accounts whose balance is credits - debits (what the platform owes someone). */
export const CREDIT_NORMAL = ['creator_pending', 'creator_available', 'reserve', 'payout_hold', 'platform_fees', 'processor_fees', 'chargeback_fees', 'payouts_in_transit'] as const
/** Accounts whose balance is debits - credits (what someone owes the platform, or what it spent). */
export const DEBIT_NORMAL = ['gateway_receivable', 'debt', 'adjustments'] as const
export const ACCOUNT_CODES = [...CREDIT_NORMAL, ...DEBIT_NORMAL] as const
export type AccountCode = (typeof ACCOUNT_CODES)[number]

/** The creator's own accounts: the ones a statement shows. */
export const CREATOR_ACCOUNTS = ['creator_pending', 'creator_available', 'reserve', 'payout_hold', 'debt'] as const satisfies readonly AccountCode[]
export type CreatorAccount = (typeof CREATOR_ACCOUNTS)[number]

export const ACCOUNT_FLAGS = {
  /** TigerBeetle: debits_pending + debits_posted + amount <= credits_posted (pending credits do not count) */
  DEBITS_MUST_NOT_EXCEED_CREDITS: 1,
  CREDITS_MUST_NOT_EXCEED_DEBITS: 2,
} as const

/** Creator-side liabilities never go below zero; debt never goes below zero either (it is only ever paid back). */
export function accountFlags(code: AccountCode): number {
  if (code === 'creator_pending' || code === 'creator_available' || code === 'reserve' || code === 'payout_hold') return ACCOUNT_FLAGS.DEBITS_MUST_NOT_EXCEED_CREDITS
  if (code === 'debt') return ACCOUNT_FLAGS.CREDITS_MUST_NOT_EXCEED_DEBITS
  return 0
}

export function isCreditNormal(code: AccountCode): boolean {
  return (CREDIT_NORMAL as readonly string[]).includes(code)
}

export const TRANSFER_FLAGS = { PENDING: 1, POST_PENDING: 2, VOID_PENDING: 4, LINKED: 8 } as const

export function flagNames(flags: number): string[] {
  return Object.entries(TRANSFER_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name.toLowerCase())
}

export const MAX_AMOUNT = 1_000_000_000_000 // 10^12 minor units: keeps amount * 10_000 bps a safe integer
export const MAX_BATCH = 5_000
const DAY_MS = 86_400_000
export { DAY_MS }

const Amount = z.number().int().positive().max(MAX_AMOUNT)
const Currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, upper case')
/** The caller's operation id: the idempotency key of one ledger operation. */
export const OpId = z.string().regex(/^[A-Za-z0-9._:@#/-]{1,200}$/, '1-200 characters of [A-Za-z0-9._:@#/-]')
// well-formed Unicode only: a lone surrogate is stored as other bytes than it reads back as, so a
// payment named by one could be found but never updated (its refunds and releases would misbook)
const Ref = z.string().min(1).max(200).refine((s) => s.isWellFormed(), 'well-formed Unicode (no lone surrogates)')
const Bps = z.number().int().min(0).max(10_000)
const Days = z.number().int().min(0).max(3_650)

/** A brand's (or creator's) split of a sale; the caller reads it from D1 and passes it in. */
export const SaleSplit = z.object({ platformFeeBps: Bps, reserveBps: Bps, reserveDays: Days, pendingDays: Days })
export type SaleSplit = z.infer<typeof SaleSplit>

export const SaleOp = z.object({
  kind: z.literal('sale'),
  opId: OpId,
  paymentId: Ref,
  currency: Currency,
  grossMinor: Amount,
  processorFeeMinor: z.number().int().min(0).max(MAX_AMOUNT),
  split: SaleSplit,
})
export const RefundOp = z.object({ kind: z.literal('refund'), opId: OpId, paymentId: Ref, amountMinor: Amount })
export const ChargebackOp = z.object({ kind: z.literal('chargeback'), opId: OpId, paymentId: Ref, feeMinor: z.number().int().min(0).max(MAX_AMOUNT) })
export const DisputeWonOp = z.object({ kind: z.literal('disputeWon'), opId: OpId, paymentId: Ref })
export const HoldOp = z.object({ kind: z.literal('holdForPayout'), opId: OpId, payoutId: Ref, currency: Currency, amountMinor: Amount })
/** amountMinor omitted = post the whole hold; less = partial post, the rest is released */
export const PostHoldOp = z.object({ kind: z.literal('postHold'), opId: OpId, holdId: Ref, amountMinor: Amount.optional() })
/** amountMinor omitted or 0, or exactly the held amount (TigerBeetle void rule) */
export const VoidHoldOp = z.object({ kind: z.literal('voidHold'), opId: OpId, holdId: Ref, amountMinor: z.number().int().min(0).max(MAX_AMOUNT).optional() })
/**
 * A posted payout came back (ACH return, SEPA reject, processor reversal): the returned amount goes
 * from payouts_in_transit back to the creator's available balance, at most the posted amount and
 * at most once per hold (the op id makes a second delivery a replay).
 */
export const PayoutReturnedOp = z.object({ kind: z.literal('payoutReturned'), opId: OpId, holdId: Ref, amountMinor: Amount.optional(), reason: z.string().min(1).max(500) })
export const AdjustOp = z.object({
  kind: z.literal('adjust'),
  opId: OpId,
  currency: Currency,
  /** credit = the creator receives, debit = the creator gives back (never below zero) */
  direction: z.enum(['credit', 'debit']),
  amountMinor: Amount,
  reason: z.string().trim().min(3).max(500),
  /** who decided: a user id, or `system:<job>` */
  actor: z.string().min(1).max(200),
})
export const LedgerOp = z.discriminatedUnion('kind', [SaleOp, RefundOp, ChargebackOp, DisputeWonOp, HoldOp, PostHoldOp, VoidHoldOp, PayoutReturnedOp, AdjustOp])

export type SaleOp = z.infer<typeof SaleOp>
export type RefundOp = z.infer<typeof RefundOp>
export type ChargebackOp = z.infer<typeof ChargebackOp>
export type DisputeWonOp = z.infer<typeof DisputeWonOp>
export type HoldOp = z.infer<typeof HoldOp>
export type PostHoldOp = z.infer<typeof PostHoldOp>
export type VoidHoldOp = z.infer<typeof VoidHoldOp>
export type PayoutReturnedOp = z.infer<typeof PayoutReturnedOp>
export type AdjustOp = z.infer<typeof AdjustOp>
export type LedgerOp = z.infer<typeof LedgerOp>
export type OpKind = LedgerOp['kind']
/** An operation as a single-operation RPC method takes it (the method names the kind). */
export type OpInput<T extends { kind: string }> = Omit<T, 'kind'>

/** Domain refusals: returned as `{ ok: false, code }`, never thrown (conventions.md §8). */
export type LedgerFailureCode =
  | 'invalid_request'
  | `exists_with_different_${string}`
  | 'payment_exists'
  | 'payment_not_found'
  | 'exceeds_refundable'
  | 'payment_charged_back'
  | 'not_charged_back'
  | 'nothing_to_reverse'
  | 'insufficient_funds'
  | 'hold_exists'
  | 'hold_not_found'
  | 'exceeds_pending_transfer_amount'
  | 'pending_transfer_has_different_amount'
  | 'pending_transfer_already_posted'
  | 'pending_transfer_already_voided'
  | 'hold_not_posted'
  | 'payout_already_returned'
  | 'exceeds_posted_amount'

export interface OpSuccess {
  ok: true
  opId: string
  kind: OpKind
  /** the ledger sequence number after this operation (the seq of its last transfer) */
  seq: number
  transferIds: string[]
  /** the pending transfer id of a payout hold (holdForPayout), else null */
  holdId: string | null
  /** true when this answer is the stored first result of an earlier delivery of the same operation */
  replayed: boolean
}
export interface OpFailure {
  ok: false
  opId: string
  code: LedgerFailureCode
  detail: string
}
export type OpResult = OpSuccess | OpFailure

export interface SaleAmounts {
  processorFeeMinor: number
  platformFeeMinor: number
  creatorShareMinor: number
  reserveMinor: number
  pendingMinor: number
}

/**
 * The split of one sale, integer arithmetic only. Platform fee = floor(net * bps / 10^4) of the net
 * after the processor fee; reserve = floor(share * bps / 10^4) of the creator share; every remainder
 * of a rounding goes to the creator (pending), so the parts always add up to the gross.
 */
export function saleAmounts(grossMinor: number, processorFeeMinor: number, split: SaleSplit): SaleAmounts {
  const net = grossMinor - processorFeeMinor
  const platformFeeMinor = Math.floor((net * split.platformFeeBps) / 10_000)
  const creatorShareMinor = net - platformFeeMinor
  const reserveMinor = Math.floor((creatorShareMinor * split.reserveBps) / 10_000)
  return { processorFeeMinor, platformFeeMinor, creatorShareMinor, reserveMinor, pendingMinor: creatorShareMinor - reserveMinor }
}

/**
 * The parts of a reversal of gross between `fromMinor` and `toMinor` (cumulative refunded amounts):
 * each fee's part is the difference of floor(cumulative * fee / gross), so any sequence of partial
 * refunds reverses exactly the fees of the sale by the time the whole gross is reversed, and the
 * creator bears the rest.
 */
export function reversalParts(gross: number, fees: { processorFeeMinor: number; platformFeeMinor: number }, fromMinor: number, toMinor: number) {
  const part = (fee: number) => Math.floor((toMinor * fee) / gross) - Math.floor((fromMinor * fee) / gross)
  const processor = part(fees.processorFeeMinor)
  const platform = part(fees.platformFeeMinor)
  return { processorMinor: processor, platformMinor: platform, creatorMinor: toMinor - fromMinor - processor - platform }
}

export interface AccountBalance {
  currency: string
  account: AccountCode
  normal: 'credit' | 'debit'
  debitsPending: number
  debitsPosted: number
  creditsPending: number
  creditsPosted: number
  /** posted balance on the account's normal side */
  postedMinor: number
  /** pending balance on the account's normal side (negative = pending debits of a credit account) */
  pendingMinor: number
}

/** What the creator sees, per currency. */
export interface BalanceSummary {
  currency: string
  pendingMinor: number
  /** spendable: posted credits minus posted and pending debits (held payouts are not available) */
  availableMinor: number
  reserveMinor: number
  onHoldMinor: number
  debtMinor: number
}

export interface Balances {
  seq: number
  accounts: AccountBalance[]
  summary: BalanceSummary[]
}

export interface TransferView {
  seq: number
  id: string
  opId: string
  debitAccount: AccountCode
  creditAccount: AccountCode
  amountMinor: number
  currency: string
  code: string
  flags: string[]
  pendingId: string | null
  paymentId: string | null
  atMs: number
  note: string | null
}

export interface HistoryPage {
  items: TransferView[]
  /** pass back as `cursor` for the next (older) page; null at the end */
  nextCursor: number | null
}

export interface StatementLine {
  seq: number
  transferId: string
  atMs: number
  code: string
  paymentId: string | null
  account: CreatorAccount
  /** effect on the account's balance on its normal side (debt: + = owes more) */
  amountMinor: number
  accountBalanceAfterMinor: number
  note: string | null
}

export interface Statement {
  month: string
  currency: string
  fromMs: number
  toMs: number
  /** posted balances per creator account at the start and end of the month */
  opening: Record<CreatorAccount, number>
  closing: Record<CreatorAccount, number>
  /** pending + available + reserve + payout_hold - debt */
  openingTotalMinor: number
  closingTotalMinor: number
  lines: StatementLine[]
}

export interface VerifyReport {
  ok: boolean
  problems: string[]
  transfers: number
}
