/**
 * Payouts on the brand site, for a signed-in creator (`/me/payouts`, gated like `/me/earnings`):
 * per creator profile on this brand, the balances and what the payout rule implies next, the
 * payout methods (masked, with the end of their security waiting period), the latest refusals in
 * plain words, and the payout history with a printable remittance advice for each paid payout
 * (`/me/payouts/{payoutId}/remittance`). Everything is read through the same functions as
 * `/api/payouts` (workers/payouts/statements); no script, so nothing to allow in the CSP.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { creatorEarnings, type CurrencyEarnings, type Earnings } from '../payouts/statements/earnings'
import { hasRemittance, payoutHistory, payoutLine, remittanceOf, type PayoutLine } from '../payouts/statements/remittance'
import { money, RemittanceAdvice, STATE_LABEL } from '../payouts/statements/render'
import { describeRule } from '../payouts/statements/schedule'
import { brandOf, brandPage } from './brand-page'

/** How many payouts the page lists (newest first); the API pages further. */
export const PAGE_PAYOUTS = 25

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const Time = ({ ms }: { ms: number }) => <time datetime={new Date(ms).toISOString()}>{day(ms)}</time>

const STATE_CLASS: Record<PayoutLine['state'], string> = {
  pending: 'status',
  queued: 'status',
  submitted: 'status',
  settled: 'status ok',
  failed: 'status broken',
  cancelled: 'status broken',
  returned: 'status broken',
}

function NextPayoutText({ c }: { c: CurrencyEarnings }) {
  const n = c.next
  if (n.kind === 'date') return <time datetime={n.at}>{n.date}</time>
  if (n.kind === 'threshold_not_reached') return <>when your available balance reaches {money(n.threshold_minor, c.currency)}</>
  if (n.reason === 'manual') return <>only when you ask for one</>
  if (n.reason === 'not_the_rule_currency') return <>not scheduled (your payout rule pays another currency)</>
  return <>no payout date left in your schedule</>
}

const Balances = ({ e }: { e: Earnings }) => (
  <div class="table-wrap">
    <table>
      <caption>Balances and next payout by currency</caption>
      <thead>
        <tr>
          <th scope="col">Currency</th>
          <th scope="col">Available</th>
          <th scope="col">Pending</th>
          <th scope="col">Rolling reserve</th>
          <th scope="col">On hold for payout</th>
          <th scope="col">Paid out to date</th>
          <th scope="col">Next payout</th>
        </tr>
      </thead>
      <tbody>
        {e.currencies.map((c) => (
          <tr data-currency={c.currency}>
            <th scope="row">{c.currency}</th>
            <td data-balance="available">{money(c.availableMinor, c.currency)}</td>
            <td data-balance="pending">{money(c.pendingMinor, c.currency)}</td>
            <td data-balance="reserve">{money(c.reserveMinor, c.currency)}</td>
            <td data-balance="hold">{money(c.onHoldMinor, c.currency)}</td>
            <td data-balance="paid">{money(c.paidOut.netMinor, c.currency)}</td>
            <td data-balance="next">
              <NextPayoutText c={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

const Methods = ({ e, nowMs }: { e: Earnings; nowMs: number }) => (
  <section aria-labelledby={`methods-${e.creatorId}`}>
    <h3 id={`methods-${e.creatorId}`}>Payout methods</h3>
    {e.methods.length ? (
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Your payout methods, default first</caption>
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">Currency</th>
              <th scope="col">Default</th>
              <th scope="col">Usable from</th>
            </tr>
          </thead>
          <tbody>
            {e.methods.map((m) => (
              <tr data-method={m.id}>
                <th scope="row">{m.summary}</th>
                <td>{m.currency}</td>
                <td>{m.isDefault ? 'Yes' : 'No'}</td>
                <td>
                  <Time ms={m.usableFromMs} />
                  {m.usableFromMs > nowMs ? ' (security waiting period after a change)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ) : (
      <p>You have no payout method yet.</p>
    )}
    <p class="hint">
      Adding or changing a payout method asks you to confirm your sign-in with a second factor, and a new method is used only after a security waiting period.
      Payout methods are managed through the FANZ API (<code>POST /api/payouts/creators/{e.creatorId}/methods</code>).
    </p>
  </section>
)

const Refusals = ({ e }: { e: Earnings }) =>
  e.refusals.length ? (
    <section aria-labelledby={`refusals-${e.creatorId}`}>
      <h3 id={`refusals-${e.creatorId}`}>Why you were not paid</h3>
      <ul>
        {e.refusals.map((r) => (
          <li data-refusal={r.code}>
            <Time ms={r.atMs} />: {r.message}
          </li>
        ))}
      </ul>
    </section>
  ) : null

function failureText(p: PayoutLine): string {
  if (p.state === 'returned') return `Came back${p.failureReason ? `: ${p.failureReason}` : ''}. The amount is in your balance again.`
  if (p.state === 'failed') return `${p.failureReason ?? 'Not paid'}. The amount is in your balance again.`
  if (p.state === 'cancelled') return 'Cancelled before it was sent. The amount is in your balance again.'
  return ''
}

const History = ({ e, payouts }: { e: Earnings; payouts: PayoutLine[] }) => (
  <section aria-labelledby={`history-${e.creatorId}`}>
    <h3 id={`history-${e.creatorId}`}>Payout history</h3>
    {payouts.length ? (
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Your payouts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Status</th>
              <th scope="col">Amount</th>
              <th scope="col">Fee</th>
              <th scope="col">Net</th>
              <th scope="col">Paid to</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {payouts.map((p) => (
              <tr data-payout={p.id} data-state={p.state}>
                <th scope="row">
                  <Time ms={p.settledAtMs ?? p.createdAtMs} />
                </th>
                <td>
                  <span class={STATE_CLASS[p.state]}>{STATE_LABEL[p.state]}</span>
                </td>
                <td>{money(p.amountMinor, p.currency)}</td>
                <td>{money(p.feeMinor, p.currency)}</td>
                <td>{money(p.netMinor, p.currency)}</td>
                <td>{p.methodSummary ?? 'a removed method'}</td>
                <td>
                  {hasRemittance(p.state) ? (
                    <a href={`/me/payouts/${p.id}/remittance`} aria-label={`Remittance advice for the payout of ${day(p.settledAtMs ?? p.createdAtMs)}`}>
                      Remittance advice
                    </a>
                  ) : (
                    failureText(p)
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ) : (
      <p>No payouts yet.</p>
    )}
    <Statements e={e} payouts={payouts} />
  </section>
)

/** Links to the monthly remittance statements of the months the listed payouts fall in. */
function Statements({ e, payouts }: { e: Earnings; payouts: PayoutLine[] }) {
  const months = [...new Set(payouts.map((p) => `${new Date(p.settledAtMs ?? p.createdAtMs).toISOString().slice(0, 7)} ${p.currency}`))]
  if (!months.length) return null
  return (
    <>
      <h4>Monthly remittance statements</h4>
      <ul>
        {months.map((key) => {
          const [month, currency] = key.split(' ') as [string, string]
          const base = `/api/payouts/creators/${e.creatorId}/remittances/${month}?currency=${currency}`
          return (
            <li data-statement={key}>
              {month} ({currency}): <a href={`${base}&format=html`}>printable</a> · <a href={`${base}&format=csv`}>CSV</a>
            </li>
          )
        })}
      </ul>
    </>
  )
}

/** The signed-in visitor's creator profiles on this brand. */
async function ownProfiles(c: Context<AppEnv>, userId: string): Promise<Array<{ id: string; handle: string; display_name: string }>> {
  const { results } = await c.env.DB.prepare('SELECT id, handle, display_name FROM creators WHERE user_id = ? AND brand_id = ? ORDER BY display_name')
    .bind(userId, brandOf(c).id)
    .all<{ id: string; handle: string; display_name: string }>()
  return results
}

export async function payoutsPage(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'private, no-store')
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent('/me/payouts')}`, 302)
  const brand = brandOf(c)
  const nowMs = Date.now()
  const profiles = await ownProfiles(c, auth.subject)
  const books = (
    await Promise.all(
      profiles.map(async (p) => {
        const [earnings, history] = await Promise.all([creatorEarnings(c.env, p.id, nowMs), payoutHistory(c.env.DB, p.id, { cursor: undefined, limit: PAGE_PAYOUTS })])
        return earnings ? { profile: p, earnings, payouts: history.items } : null
      }),
    )
  ).filter((b) => b !== null)
  return c.html(
    brandPage(
      c,
      'Payouts',
      <section aria-labelledby="title">
        <h1 id="title">Payouts</h1>
        <p>
          <a href="/me/earnings">Earnings</a> shows where your money comes from; this page shows how it is paid out.
        </p>
        {books.length === 0 ? <p>You have no creator profile on {brand.name}.</p> : null}
        {books.map(({ profile, earnings, payouts }) => (
          <section aria-labelledby={`creator-${profile.id}`} data-creator={profile.id}>
            <h2 id={`creator-${profile.id}`}>
              {profile.display_name} (@{profile.handle})
            </h2>
            <p>Payout schedule: {describeRule(earnings.rule)}.</p>
            <Balances e={earnings} />
            <Refusals e={earnings} />
            <Methods e={earnings} nowMs={nowMs} />
            <History e={earnings} payouts={payouts} />
          </section>
        ))}
      </section>,
    ),
  )
}

/** A printable remittance advice of one of the visitor's own paid payouts; anything else is the 404 page. */
export async function remittancePage(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'private, no-store')
  const auth = c.var.auth
  const payoutId = c.req.param('payoutId') ?? ''
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent(`/me/payouts/${payoutId}/remittance`)}`, 302)
  const line = /^po_[0-9A-Z]{26}$/.test(payoutId) ? await payoutLine(c.env.DB, payoutId) : null
  const own = line ? (await ownProfiles(c, auth.subject)).some((p) => p.id === line.creatorId) : false
  if (!line || !own || !hasRemittance(line.state)) return c.notFound()
  const r = (await remittanceOf(c.env.DB, payoutId, c.var.config.platformDomain))!
  return c.html(
    brandPage(
      c,
      'Remittance advice',
      <>
        <RemittanceAdvice r={r} headingId="title" />
        <p>
          <a href={`/api/payouts/payouts/${payoutId}/remittance?format=csv`}>Download as CSV</a> · <a href="/me/payouts">Back to payouts</a>
        </p>
      </>,
    ),
  )
}
