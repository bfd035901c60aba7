/**
 * What a MerchantHealth object counts: settled transactions, disputes/chargebacks and Visa fraud
 * reports (TC40), each with the caller's stable event id (e.g. `<gateway>:<transactionId>`), so a
 * redelivered event is counted once. Validated with zod where it crosses into the object.
 * @module
 */
import { z } from 'zod'
import { isCurrency } from '../currencies'

export const NETWORKS = ['visa', 'mastercard', 'other'] as const
export type Network = (typeof NETWORKS)[number]

const Minor = z.number().int().safe().nonnegative()
const Currency = z.string().refine(isCurrency, 'must be an ISO 4217 code')
const AtMs = z.number().int().safe().min(0)

const common = {
  id: z.string().min(1).max(200),
  network: z.enum(NETWORKS),
  amountMinor: Minor,
  currency: Currency,
  /**
   * The amount in USD minor units when the gateway reports it (accounting currency) or the caller
   * converted it; USD amounts need none. The MENA VAMP and EFM floors are in USD.
   */
  usdMinor: Minor.optional(),
}

export const SettledEvent = z
  .object({
    kind: z.literal('settled'),
    ...common,
    /** settlement date: decides the month */
    settledAtMs: AtMs,
    threeDs: z.boolean(),
  })
  .strict()

export const DisputeEvent = z
  .object({
    kind: z.literal('dispute'),
    ...common,
    /** network reason code, e.g. Visa `10.4`, Mastercard `4837` */
    reasonCode: z.string().max(16),
    fraud: z.boolean(),
    /** dispute date: decides the month */
    disputedAtMs: AtMs,
    /** resolved through Verifi RDR: not counted by VAMP */
    rdrResolved: z.boolean().default(false),
    /** qualified for Visa Compelling Evidence 3.0: not counted by VAMP */
    ce3Qualified: z.boolean().default(false),
  })
  .strict()

export const FraudReportEvent = z
  .object({
    kind: z.literal('fraud_report'),
    ...common,
    network: z.literal('visa'),
    reportedAtMs: AtMs,
    ce3Qualified: z.boolean().default(false),
  })
  .strict()

export const HealthEvent = z.discriminatedUnion('kind', [SettledEvent, DisputeEvent, FraudReportEvent])
export type HealthEventInput = z.input<typeof HealthEvent>
export type HealthEvent = z.output<typeof HealthEvent>

export function eventAtMs(event: HealthEvent): number {
  switch (event.kind) {
    case 'settled':
      return event.settledAtMs
    case 'dispute':
      return event.disputedAtMs
    case 'fraud_report':
      return event.reportedAtMs
  }
}

/** The USD value of an event when known. */
export function usdValue(event: HealthEvent): number | null {
  if (event.usdMinor !== undefined) return event.usdMinor
  return event.currency === 'USD' ? event.amountMinor : null
}
