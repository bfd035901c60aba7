/**
 * Bank transfers (ACH, SEPA credit transfer, international wire) by reference: there is no hosted
 * payment page and no postback. Checkout sends the fan to our own instructions page (the platform
 * host's `/pay/bank-transfer`, link signed so amount and reference cannot be edited) showing the
 * platform's receiving account and the payment's ISO 11649 creditor reference, which the fan quotes
 * in the transfer. The money is found later in an imported bank statement (camt.053 or CSV,
 * payments/bank/) and matched by that reference; the match writes the `gateway_events` sale.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { z } from 'zod'
import { base64url, timingSafeEqualText } from '../../lib/encoding'
import { bankReferenceFor } from '../bank/reference'
import { compactIban, isValidBic, isValidIban, isValidRoutingNumber } from '../bank/iban'
import type { CheckoutInput, CheckoutResult, GatewayAdapter } from './types'

/** The platform's receiving account as printed to fans; validated when the settings are read. */
export const BankAccount = z.object({
  beneficiaryName: z.string().trim().min(2).max(70),
  beneficiaryAddress: z.string().trim().max(140).optional(),
  bankName: z.string().trim().min(2).max(140),
  /** SEPA credit transfers (EUR) */
  sepa: z.object({ iban: z.string().transform(compactIban).refine(isValidIban, 'not a valid IBAN'), bic: z.string().refine(isValidBic, 'not a valid BIC') }).optional(),
  /** ACH (USD, US banks) */
  ach: z.object({ routingNumber: z.string().refine(isValidRoutingNumber, 'not a valid ABA routing number'), accountNumber: z.string().regex(/^[0-9]{4,17}$/, '4 to 17 digits'), accountType: z.enum(['checking', 'savings']).default('checking') }).optional(),
  /** international wires (SWIFT) */
  wire: z.object({ swift: z.string().refine(isValidBic, 'not a valid SWIFT/BIC'), account: z.string().trim().min(4).max(34), bankAddress: z.string().trim().max(140).optional() }).optional(),
})
export type BankAccount = z.infer<typeof BankAccount>

export interface BankTransferSettings {
  /** HMAC key of the instruction links (derived from the master key; not configured) */
  linkSecret: string
  /** our instructions page, e.g. https://fanz.network/pay/bank-transfer */
  instructionsUrl: string
  account: BankAccount
}

/** A sandbox receiving account (dev, staging): the spec's worked IBAN, a checksum-valid routing number. */
export const SANDBOX_BANK_ACCOUNT: BankAccount = BankAccount.parse({
  beneficiaryName: 'FANZ Payments Sandbox Ltd',
  beneficiaryAddress: '1 Sandbox Street, 10115 Berlin, Germany',
  bankName: 'Sandbox Bank (no real money)',
  sepa: { iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX' },
  ach: { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking' },
  wire: { swift: 'COBADEFFXXX', account: 'DE89370400440532013000', bankAddress: 'Sandbox Bank, Berlin' },
})

/** Signature of an instructions link's query (HMAC-SHA256, base64url). */
export function instructionsSignature(secret: string, query: string): string {
  return base64url(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(query)))
}

/** The link's parameters when its signature is ours, else null. */
export function verifyInstructionsLink(secret: string, search: string): URLSearchParams | null {
  const params = new URLSearchParams(search)
  const sig = params.get('sig') ?? ''
  params.delete('sig')
  return timingSafeEqualText(sig, instructionsSignature(secret, params.toString())) ? params : null
}

function buildCheckout(settings: BankTransferSettings, input: CheckoutInput): CheckoutResult {
  if (!/^pay_[0-9A-HJKMNP-TV-Z]{26}$/.test(input.reference)) return { ok: false, reason: 'reference_is_not_a_payment_id' }
  // a transfer is one-off: a subscription pays its first period, each renewal is a new transfer
  const params = new URLSearchParams({
    payment: input.reference,
    reference: bankReferenceFor(input.reference),
    amount: String(input.amount.minor),
    currency: input.amount.currency,
  })
  if (input.successUrl) params.set('return', input.successUrl)
  params.set('sig', instructionsSignature(settings.linkSecret, params.toString()))
  return { ok: true, request: { kind: 'redirect', method: 'GET', url: `${settings.instructionsUrl}?${params}` } }
}

export const bankTransfer: GatewayAdapter<BankTransferSettings> = {
  id: 'bank_transfer',
  buildCheckout,
  // statements are imported by finance (POST /api/payments/bank-statements); nothing may post here
  verifyPostback: () => ({ ok: false, reason: 'bank_transfers_have_no_postbacks' }),
  parsePostback: () => ({ ok: false, reason: 'bank_transfers_have_no_postbacks' }),
}
