/**
 * NOWPayments IPN bodies as the sandbox processor sends them: the field set of a real payment IPN
 * (payment_id, parent_payment_id, invoice_id, payment_status, pay_address, payin_extra_id,
 * price_amount, price_currency, pay_amount, actually_paid, actually_paid_at_fiat, pay_currency,
 * order_id, order_description, purchase_id, outcome_amount, outcome_currency, payment_extra_ids, fee,
 * created_at, updated_at), numbers as JSON numbers, fiat codes in lower case, signed in
 * `x-nowpayments-sig` like the real processor.
 * @module
 */
import { nowpaymentsSignature } from '../gateways/crypto'
import { formatMinor } from '../gateways/money'
import { COIN_DECIMALS, fiatMinorFor, sandboxDepositAddress, type SandboxCoin, unitsToDecimal } from './rates'

export type IpnStatus = 'waiting' | 'confirming' | 'confirmed' | 'sending' | 'partially_paid' | 'finished' | 'failed' | 'refunded' | 'expired'

export interface SandboxInvoice {
  invoiceId: string
  orderId: string
  orderDescription: string
  priceMinor: number
  /** ISO 4217, upper case */
  fiat: string
}

export interface SandboxPayment {
  paymentId: string
  purchaseId: string
  coin: SandboxCoin
  /** what the invoice asks for, base units of the coin */
  payUnits: bigint
  /** what arrived so far */
  paidUnits: bigint
  createdAt: string
}

/** A decimal string as a JSON number (the wire format); sandbox amounts have at most 8 decimals, exact as doubles print. */
const num = (decimal: string) => Number(decimal)

export function ipnBody(invoice: SandboxInvoice, payment: SandboxPayment, status: IpnStatus, updatedAt: string): Record<string, unknown> {
  const decimals = COIN_DECIMALS[payment.coin]
  // the processor's own fee: 0.5% of what arrived, kept in the coin (outcome = received minus fee)
  const feeUnits = (payment.paidUnits * 5n) / 1000n
  return {
    payment_id: num(payment.paymentId),
    parent_payment_id: null,
    invoice_id: num(invoice.invoiceId),
    payment_status: status,
    pay_address: sandboxDepositAddress(invoice.invoiceId, payment.coin),
    payin_extra_id: null,
    price_amount: num(formatMinor({ minor: invoice.priceMinor, currency: invoice.fiat })),
    price_currency: invoice.fiat.toLowerCase(),
    pay_amount: num(unitsToDecimal(payment.payUnits, decimals)),
    actually_paid: num(unitsToDecimal(payment.paidUnits, decimals)),
    actually_paid_at_fiat: num(formatMinor({ minor: fiatMinorFor(payment.paidUnits, invoice.fiat, payment.coin), currency: invoice.fiat })),
    pay_currency: payment.coin,
    order_id: invoice.orderId,
    order_description: invoice.orderDescription,
    purchase_id: payment.purchaseId,
    outcome_amount: num(unitsToDecimal(payment.paidUnits - feeUnits, decimals)),
    outcome_currency: payment.coin,
    payment_extra_ids: null,
    fee: { currency: payment.coin, depositFee: 0, withdrawalFee: 0, serviceFee: num(unitsToDecimal(feeUnits, decimals)) },
    created_at: payment.createdAt,
    updated_at: updatedAt,
  }
}

export interface SignedIpn {
  headers: { 'content-type': 'application/json'; 'x-nowpayments-sig': string }
  rawBody: string
}

export function signIpn(ipnSecret: string, body: Record<string, unknown>): SignedIpn {
  const rawBody = JSON.stringify(body)
  return { headers: { 'content-type': 'application/json', 'x-nowpayments-sig': nowpaymentsSignature(ipnSecret, rawBody) }, rawBody }
}
