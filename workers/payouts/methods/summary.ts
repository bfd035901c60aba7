/**
 * The masked form of a payout method, stored in `payout_methods.summary` and shown everywhere a
 * method is listed ("SEPA •••• 3000 (DE)", "ACH checking •••• 6789", "BTC bc1q…f3k2",
 * "Paxum a•••@example.com"). Enough for the owner to recognise the account, never enough to use
 * it: at most the last four characters of an account number, no names, no street.
 * @module
 */
import type { PayoutMethod } from './methods'

const DOTS = '••••'

/** last four characters, as the owner sees them on their bank card or statement */
const last4 = (value: string) => value.replace(/[\s-]/g, '').slice(-4)

/** `alice@example.com` -> `a•••@example.com` */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  if (at <= 0) return `${email.slice(0, 1)}•••`
  return `${email.slice(0, 1)}•••${email.slice(at)}`
}

/** `bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq` -> `bc1q…5mdq` */
function maskAddress(address: string): string {
  return address.length <= 10 ? address : `${address.slice(0, 4)}…${address.slice(-4)}`
}

const DEFAULT_NETWORK: Record<string, string> = { BTC: 'bitcoin', ETH: 'ethereum' }

export function summarizeMethod(method: PayoutMethod): string {
  switch (method.type) {
    case 'paxum':
      return `Paxum ${maskEmail(method.email)}`
    case 'epayservice':
      return method.accountId !== undefined ? `ePayService ${DOTS} ${last4(method.accountId)}` : `ePayService ${maskEmail(method.email!)}`
    case 'payoneer':
      return `Payoneer ${DOTS} ${last4(method.payeeId)}`
    case 'wise': {
      const d = method.details
      switch (d.kind) {
        case 'iban':
          return `Wise ${method.currency} ${DOTS} ${last4(d.iban)} (${d.iban.slice(0, 2)})`
        case 'sort_code':
          return `Wise ${method.currency} ${DOTS} ${last4(d.accountNumber)} (sort code)`
        case 'aba':
          return `Wise ${method.currency} ${d.accountType} ${DOTS} ${last4(d.accountNumber)}`
        case 'swift':
          return `Wise ${method.currency} ${DOTS} ${last4(d.accountNumber)} (SWIFT)`
      }
      break
    }
    case 'crypto': {
      // a token says its network (USDT on Ethereum and on TRON are different payouts); a coin on its own chain does not
      const network = DEFAULT_NETWORK[method.asset] === method.network ? '' : ` (${method.network})`
      return `${method.asset}${network} ${maskAddress(method.address)}`
    }
    case 'ach':
      return `ACH ${method.accountType} ${DOTS} ${last4(method.accountNumber)}`
    case 'sepa':
      return `SEPA ${DOTS} ${last4(method.iban)} (${method.iban.slice(0, 2)})`
    case 'wire': {
      const account = method.iban ?? method.accountNumber ?? ''
      return `Wire ${DOTS} ${last4(account)} (${method.bic.slice(0, 4)} ${method.bic.slice(4, 6)})`
    }
    case 'check':
      return `Check by mail to ${method.address.townName ?? '?'} (${method.address.country ?? '?'})`
  }
}
