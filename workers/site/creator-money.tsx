/**
 * Money on the brand site: a signed-in fan subscribes to a creator (checkout through the routing
 * engine, then off to the chosen gateway's hosted page), and a creator sees their earnings (the
 * balances of their ledger: pending, available, reserve, on hold, debt).
 *
 * The price is the creator's own (`subscriptionPrice`, set through
 * `PUT /api/payments/creators/{id}/subscription-price`); checkout takes it from the server too. A
 * fan whose subscription still runs sees until when instead of a second Subscribe button.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { isSameOrigin } from '../edge/same-origin'
import { ledgerFor } from '../ledger/stub'
import { startCheckout } from '../payments/checkout'
import { formatMinor } from '../payments/gateways/money'
import { subscriptionPrice } from '../payments/subscriptions/pricing'
import { brandOf, brandPage } from './brand-page'
import { runningSubscription, SubscribedUntil } from './fan-subscriptions'
import { browserReachable } from './links'

const money = (minor: number, currency: string) => `${formatMinor({ minor, currency })} ${currency}`

/** The subscribe block of a creator page: the creator's price, or until when the fan is subscribed. */
export async function SubscribeBox({ c, creatorId: given, handle, displayName }: { c: Context<AppEnv>; creatorId?: string; handle: string; displayName: string }) {
  const creatorId =
    given ?? (await c.env.DB.prepare('SELECT id FROM creators WHERE brand_id = ? AND handle = ?').bind(brandOf(c).id, handle).first<{ id: string }>())?.id
  if (!creatorId) return null
  const current = await subscriptionPrice(c.env.DB, creatorId)
  const price = money(current.amountMinor, current.currency)
  if (c.var.auth?.source !== 'cookie') {
    return (
      <p>
        <a class="button" href={`/auth/login?return_to=${encodeURIComponent(`/c/${handle}`)}`}>
          Sign in to subscribe
        </a>
      </p>
    )
  }
  const running = await runningSubscription(c.env.DB, c.var.auth.subject, creatorId, Date.now())
  if (running) return <SubscribedUntil subscription={running} />
  return (
    <form method="post" action={`/c/${handle}/subscribe`} class="inline-form">
      <button type="submit">
        Subscribe to {displayName} for {price} a month
      </button>
    </form>
  )
}

export async function subscribe(c: Context<AppEnv>, creator: { id: string; handle: string; displayName: string }): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent(`/c/${creator.handle}`)}`, 303)
  const here = new URL(c.req.url)
  // a second click, or a second tab: one running subscription per fan and creator
  const running = await runningSubscription(c.env.DB, auth.subject, creator.id, Date.now())
  if (running) {
    return c.html(
      brandPage(
        c,
        'Already subscribed',
        <section aria-labelledby="title">
          <h1 id="title">Already subscribed</h1>
          <SubscribedUntil subscription={running} />
          <p>
            <a href="/me/subscriptions">Manage your subscriptions</a>
          </p>
        </section>,
      ),
      409,
    )
  }
  const price = await subscriptionPrice(c.env.DB, creator.id)
  const started = await startCheckout(c, auth.subject, {
    creatorId: creator.id,
    kind: 'subscription',
    amountMinor: price.amountMinor,
    currency: price.currency,
    returnUrl: `${here.origin}/c/${creator.handle}`,
  })
  if (started.request.kind !== 'redirect') return c.text('this gateway needs a form post, which the site does not offer yet', 501)
  // a page that moves on by itself, not a 303: form-action also governs redirects after a post
  const next = browserReachable(c, started.request.url).toString()
  c.header('refresh', `0;url=${next}`)
  return c.html(
    brandPage(
      c,
      'Continuing to payment',
      <section aria-labelledby="title">
        <h1 id="title">Continuing to payment</h1>
        <p role="status">
          Taking you to the payment page for your subscription to {creator.displayName}. If nothing happens, <a href={next}>continue here</a>.
        </p>
      </section>,
    ),
  )
}

export async function earningsPage(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'private, no-store')
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent('/me/earnings')}`, 302)
  const brand = brandOf(c)
  const { results: profiles } = await c.env.DB.prepare('SELECT id, handle, display_name FROM creators WHERE user_id = ? AND brand_id = ? ORDER BY display_name')
    .bind(auth.subject, brand.id)
    .all<{ id: string; handle: string; display_name: string }>()
  const books = await Promise.all(profiles.map(async (p) => ({ profile: p, balances: await ledgerFor(c.env, p.id).balances() })))
  return c.html(
    brandPage(
      c,
      'Earnings',
      <section aria-labelledby="title">
        <h1 id="title">Earnings</h1>
        <p>
          <a href="/me/payouts">Payouts</a>: your payout schedule, methods, history and remittance advice.
        </p>
        {books.length === 0 ? <p>You have no creator profile on {brand.name}.</p> : null}
        {books.map(({ profile, balances }) => (
          <section aria-labelledby={`creator-${profile.id}`}>
            <h2 id={`creator-${profile.id}`}>
              {profile.display_name} (@{profile.handle})
            </h2>
            {balances.summary.length === 0 ? (
              <p>No earnings yet.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption>Balances by currency</caption>
                  <thead>
                    <tr>
                      <th scope="col">Currency</th>
                      <th scope="col">Pending</th>
                      <th scope="col">Available</th>
                      <th scope="col">Rolling reserve</th>
                      <th scope="col">On hold for payout</th>
                      <th scope="col">Owed</th>
                    </tr>
                  </thead>
                  <tbody>
                    {balances.summary.map((s) => (
                      <tr data-currency={s.currency}>
                        <th scope="row">{s.currency}</th>
                        <td data-balance="pending">{money(s.pendingMinor, s.currency)}</td>
                        <td data-balance="available">{money(s.availableMinor, s.currency)}</td>
                        <td data-balance="reserve">{money(s.reserveMinor, s.currency)}</td>
                        <td data-balance="hold">{money(s.onHoldMinor, s.currency)}</td>
                        <td data-balance="debt">{money(s.debtMinor, s.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        ))}
      </section>,
    ),
  )
}
