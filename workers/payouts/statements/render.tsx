/**
 * Remittance advice and monthly remittance statements as CSV (RFC 4180, the ledger's field rules:
 * formula-looking text defused, amounts as integers in minor units plus a decimal column) and as
 * printable HTML (one component for the API's standalone document and the brand site's page).
 * @module
 */
import { html } from 'hono/html'
import type { Child, FC } from 'hono/jsx'
import { csvLine } from '../../ledger/statement-csv'
import { formatMinor } from '../../payments/gateways/money'
import type { MonthlyRemittance, PayoutLine, Remittance, StateTotal } from './remittance'

export const money = (minor: number, currency: string): string => `${formatMinor({ minor, currency })} ${currency}`

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const day = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString().slice(0, 10))

/** What each payout state means to the payee. */
export const STATE_LABEL: Readonly<Record<PayoutLine['state'], string>> = {
  pending: 'Scheduled',
  queued: 'Queued',
  submitted: 'On its way',
  settled: 'Paid',
  failed: 'Failed',
  cancelled: 'Cancelled',
  returned: 'Returned',
}

export const REMITTANCE_CSV_HEADER = [
  'payer',
  'payee',
  'creator_id',
  'payout_id',
  'date',
  'state',
  'method',
  'processor_reference',
  'currency',
  'amount_minor',
  'fee_minor',
  'net_minor',
  'amount',
  'fee',
  'net',
] as const

function payoutFields(payer: string, payee: string, p: PayoutLine, date: string): Array<string | number | null> {
  return [payer, payee, p.creatorId, p.id, date, p.state, p.methodSummary, p.processorRef, p.currency, p.amountMinor, p.feeMinor, p.netMinor, formatMinor({ minor: p.amountMinor, currency: p.currency }), formatMinor({ minor: p.feeMinor, currency: p.currency }), formatMinor({ minor: p.netMinor, currency: p.currency })]
}

export function remittanceCsv(r: Remittance): string {
  return csvLine([...REMITTANCE_CSV_HEADER]) + csvLine(payoutFields(r.payer.name, r.payee.displayName, r.payout, r.date))
}

export const MONTHLY_CSV_HEADER = ['row', ...REMITTANCE_CSV_HEADER, 'count'] as const

/** One `payout` row per payout, then one `total_<state>` row per state group. */
export function monthlyCsv(m: MonthlyRemittance): string {
  let out = csvLine([...MONTHLY_CSV_HEADER])
  for (const p of m.payouts) out += csvLine(['payout', ...payoutFields(m.payer.name, m.payee.displayName, p, day(p.settledAtMs ?? p.createdAtMs)), null])
  const total = (name: string, t: StateTotal) =>
    csvLine([`total_${name}`, m.payer.name, m.payee.displayName, m.payee.creatorId, null, m.month, null, null, null, m.currency, t.amountMinor, t.feeMinor, t.netMinor, formatMinor({ minor: t.amountMinor, currency: m.currency }), formatMinor({ minor: t.feeMinor, currency: m.currency }), formatMinor({ minor: t.netMinor, currency: m.currency }), t.count])
  out += total('paid', m.totals.paid) + total('returned', m.totals.returned) + total('in_flight', m.totals.inFlight) + total('not_paid', m.totals.notPaid)
  return out
}

/** JSON shape of one payout (history, remittance, monthly statement). */
export function payoutJson(p: PayoutLine) {
  return {
    id: p.id,
    batch_id: p.batchId,
    kind: p.kind,
    rail: p.rail,
    currency: p.currency,
    amount_minor: p.amountMinor,
    fee_minor: p.feeMinor,
    net_minor: p.netMinor,
    state: p.state,
    method: { id: p.methodId, summary: p.methodSummary },
    processor_ref: p.processorRef,
    failure: p.failureCode === null && p.failureReason === null ? null : { code: p.failureCode, reason: p.failureReason },
    created_at: iso(p.createdAtMs)!,
    settled_at: iso(p.settledAtMs),
    returned_at: iso(p.returnedAtMs),
  }
}

export const RemittanceAdvice: FC<{ r: Remittance; headingId?: string }> = ({ r, headingId = 'remittance-title' }) => {
  const p = r.payout
  return (
    <article class="remittance" aria-labelledby={headingId} data-payout={p.id}>
      <h1 id={headingId}>Remittance advice</h1>
      <dl class="facts">
        <dt>Payer</dt>
        <dd data-field="payer">
          {r.payer.name} ({r.payer.website})
        </dd>
        <dt>Payee</dt>
        <dd data-field="payee">{r.payee.displayName}</dd>
        <dt>Payout</dt>
        <dd data-field="payout-id">
          <code>{p.id}</code>
        </dd>
        <dt>Date</dt>
        <dd data-field="date">
          <time datetime={r.date}>{r.date}</time>
        </dd>
        <dt>Status</dt>
        <dd data-field="state">{STATE_LABEL[p.state]}</dd>
        <dt>Paid to</dt>
        <dd data-field="method">{p.methodSummary ?? 'a removed payout method'}</dd>
        <dt>Processor reference</dt>
        <dd data-field="processor-ref">{p.processorRef ?? 'none'}</dd>
      </dl>
      <div class="table-wrap">
        <table>
          <caption>Amounts in {p.currency}</caption>
          <thead>
            <tr>
              <th scope="col">Payout amount</th>
              <th scope="col">Fee</th>
              <th scope="col">Net paid to you</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td data-amount="amount">{money(p.amountMinor, p.currency)}</td>
              <td data-amount="fee">{money(p.feeMinor, p.currency)}</td>
              <td data-amount="net">{money(p.netMinor, p.currency)}</td>
            </tr>
          </tbody>
        </table>
      </div>
      {p.state === 'returned' ? (
        <p data-field="returned">
          This payout came back on {day(p.returnedAtMs)}
          {p.failureReason ? ` (${p.failureReason})` : ''}; the amount was credited to your balance again.
        </p>
      ) : null}
    </article>
  )
}

const TotalRow: FC<{ label: string; name: string; t: StateTotal; currency: string }> = ({ label, name, t, currency }) => (
  <tr data-total={name}>
    <th scope="row">
      {label} ({t.count})
    </th>
    <td>{money(t.amountMinor, currency)}</td>
    <td>{money(t.feeMinor, currency)}</td>
    <td>{money(t.netMinor, currency)}</td>
  </tr>
)

export const MonthlyStatement: FC<{ m: MonthlyRemittance }> = ({ m }) => (
  <article class="remittance" aria-labelledby="statement-title">
    <h1 id="statement-title">
      Remittance statement {m.month} ({m.currency})
    </h1>
    <p>
      From {m.payer.name} ({m.payer.website}) to {m.payee.displayName}.
    </p>
    <div class="table-wrap">
      <table>
        <caption>Payouts dated in {m.month}</caption>
        <thead>
          <tr>
            <th scope="col">Payout</th>
            <th scope="col">Date</th>
            <th scope="col">Status</th>
            <th scope="col">Paid to</th>
            <th scope="col">Amount</th>
            <th scope="col">Fee</th>
            <th scope="col">Net</th>
          </tr>
        </thead>
        <tbody>
          {m.payouts.length ? (
            m.payouts.map((p) => (
              <tr data-payout={p.id}>
                <th scope="row">
                  <code>{p.id}</code>
                </th>
                <td>{day(p.settledAtMs ?? p.createdAtMs)}</td>
                <td>{STATE_LABEL[p.state]}</td>
                <td>{p.methodSummary ?? ''}</td>
                <td>{money(p.amountMinor, p.currency)}</td>
                <td>{money(p.feeMinor, p.currency)}</td>
                <td>{money(p.netMinor, p.currency)}</td>
              </tr>
            ))
          ) : (
            <tr>
              <td colspan={7}>No payouts in this month.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
    <div class="table-wrap">
      <table>
        <caption>Totals</caption>
        <thead>
          <tr>
            <th scope="col">Payouts</th>
            <th scope="col">Amount</th>
            <th scope="col">Fee</th>
            <th scope="col">Net</th>
          </tr>
        </thead>
        <tbody>
          <TotalRow label="Paid" name="paid" t={m.totals.paid} currency={m.currency} />
          <TotalRow label="Returned" name="returned" t={m.totals.returned} currency={m.currency} />
          <TotalRow label="On their way" name="in_flight" t={m.totals.inFlight} currency={m.currency} />
          <TotalRow label="Not paid" name="not_paid" t={m.totals.notPaid} currency={m.currency} />
        </tbody>
      </table>
    </div>
  </article>
)

/**
 * A standalone printable document for the API host, whose CSP (`default-src 'none'`) admits no
 * stylesheet: plain semantic HTML that prints well as it is.
 */
function standaloneDocument(title: string, body: Child) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main>${body}</main></body></html>`
}

export const remittanceHtml = (r: Remittance) => standaloneDocument(`Remittance advice ${r.payout.id}`, <RemittanceAdvice r={r} />)
export const monthlyHtml = (m: MonthlyRemittance) => standaloneDocument(`Remittance statement ${m.month} ${m.currency}`, <MonthlyStatement m={m} />)
