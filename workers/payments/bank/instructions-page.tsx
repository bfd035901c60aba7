/**
 * `/pay/bank-transfer` on the bare platform host: how to pay a pending bank-transfer payment. The
 * link comes from checkout (gateways/bank-transfer.ts) and is signed, so the amount and reference
 * shown are the ones checkout opened. The rail follows the payment's method: SEPA (IBAN + BIC),
 * ACH (routing + account number) or an international wire (SWIFT); the ISO 11649 reference is
 * printed in groups of four and must be quoted exactly, because it is the only thing that matches
 * the money to the payment when the bank statement is imported.
 * @module
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { platformPage } from '../../site/platform-page'
import { type BankAccount, verifyInstructionsLink } from '../gateways/bank-transfer'
import { gatewaySettings } from '../webhooks/settings'
import { printedIban } from './iban'
import { decimalFromMinor } from './money-text'
import { bankReferenceFor, printedReference } from './reference'

export const bankTransferPage = new Hono<AppEnv>()

type Rail = 'sepa' | 'ach' | 'wire'

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 404 = 200) {
  c.header('cache-control', 'no-store')
  return c.html(platformPage(c, 'FANZ payments', title, body as never), status)
}

/** The payment's own rail, else what suits the currency (SEPA for EUR, ACH for USD) plus a wire. */
function railsFor(method: string | null, currency: string, account: BankAccount): Rail[] {
  const wanted: Rail[] = method === 'sepa' || method === 'ach' || method === 'wire' ? [method] : currency === 'EUR' ? ['sepa', 'wire'] : currency === 'USD' ? ['ach', 'wire'] : ['wire']
  return wanted.filter((rail) => account[rail] !== undefined)
}

function Row(props: { term: string; value: string; code?: boolean }) {
  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.code ? <code>{props.value}</code> : props.value}</dd>
    </>
  )
}

function Details(props: { rail: Rail; account: BankAccount }) {
  const { account } = props
  if (props.rail === 'sepa' && account.sepa) {
    return (
      <dl>
        <Row term="Beneficiary" value={account.beneficiaryName} />
        <Row term="IBAN" value={printedIban(account.sepa.iban)} code />
        <Row term="BIC" value={account.sepa.bic} code />
        <Row term="Bank" value={account.bankName} />
      </dl>
    )
  }
  if (props.rail === 'ach' && account.ach) {
    return (
      <dl>
        <Row term="Beneficiary" value={account.beneficiaryName} />
        <Row term="Routing number (ABA)" value={account.ach.routingNumber} code />
        <Row term="Account number" value={account.ach.accountNumber} code />
        <Row term="Account type" value={account.ach.accountType} />
        <Row term="Bank" value={account.bankName} />
      </dl>
    )
  }
  if (props.rail === 'wire' && account.wire) {
    return (
      <dl>
        <Row term="Beneficiary" value={account.beneficiaryName} />
        {account.beneficiaryAddress ? <Row term="Beneficiary address" value={account.beneficiaryAddress} /> : null}
        <Row term="SWIFT / BIC" value={account.wire.swift} code />
        <Row term="Account" value={account.wire.account} code />
        <Row term="Bank" value={account.wire.bankAddress ?? account.bankName} />
      </dl>
    )
  }
  return null
}

const RAIL_TITLES: Record<Rail, string> = { sepa: 'SEPA credit transfer', ach: 'ACH transfer (US banks)', wire: 'International wire (SWIFT)' }

bankTransferPage.get('/pay/bank-transfer', async (c) => {
  const settings = await gatewaySettings(c.env, c.var.config, 'bank_transfer')
  if (!settings) return page(c, 'Not available', <p>Bank transfers are not offered here.</p>, 404)
  const params = verifyInstructionsLink(settings.linkSecret, new URL(c.req.url).search.slice(1))
  const paymentId = params?.get('payment') ?? ''
  if (!params || params.get('reference') !== bankReferenceFor(paymentId)) {
    return page(c, 'Invalid link', <p>This payment link is not signed by FANZ. Start again from the site.</p>, 400)
  }
  const payment = await c.env.DB.prepare('SELECT status, method, amount_minor, currency FROM payments WHERE id = ?')
    .bind(paymentId)
    .first<{ status: string; method: string | null; amount_minor: number; currency: string }>()
  const currency = payment?.currency ?? params.get('currency')!
  const amount = `${decimalFromMinor(payment?.amount_minor ?? Number(params.get('amount')), currency)} ${currency}`
  const reference = printedReference(params.get('reference')!)
  const back = params.get('return')
  if (payment && payment.status !== 'pending') {
    return page(
      c,
      'Transfer received',
      <section class="narrow" aria-labelledby="title">
        <h1 id="title">{payment.status === 'succeeded' ? 'We received your transfer' : `This payment is ${payment.status.replaceAll('_', ' ')}`}</h1>
        <p>
          Payment reference {reference}, {amount}.
        </p>
        {back ? <a href={back}>Return to the site</a> : null}
      </section>,
    )
  }
  const rails = railsFor(payment?.method ?? null, currency, settings.account)
  return page(
    c,
    'Pay by bank transfer',
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Bank transfer</p>
      <h1 id="title">Send {amount} by bank transfer</h1>
      <p>
        Quote this reference <strong>exactly</strong>, in the payment reference (or "creditor reference") field of your bank's transfer form:
      </p>
      <p class="lead" data-reference={params.get('reference')!}>
        <code>{reference}</code>
      </p>
      <p class="hint">
        Without it, or with a different amount, we cannot match your transfer automatically and access starts only after our finance team finds it. Send exactly {amount}; bank charges on your side are
        yours.
      </p>
      {rails.map((rail) => (
        <section aria-label={RAIL_TITLES[rail]}>
          <h2>{RAIL_TITLES[rail]}</h2>
          <Details rail={rail} account={settings.account} />
        </section>
      ))}
      <p>We match transfers when the bank statement arrives, usually within one to three business days.</p>
      {back ? <a href={back}>Return to the site</a> : null}
    </section>,
  )
})
