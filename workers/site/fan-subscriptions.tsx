/**
 * "My subscriptions" on a brand host (`/me/subscriptions`): the signed-in fan's subscriptions to
 * this brand's creators, with status, renewal or end date and price, and a Cancel button (a plain
 * form post, same-origin checked, no JavaScript needed). Cancelling asks the gateway, exactly as
 * `POST /api/payments/subscriptions/{id}/cancel` does (payments/subscriptions/cancel.ts).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { isSameOrigin } from '../edge/same-origin'
import { ProblemError } from '../edge/problem'
import { formatMinor } from '../payments/gateways/money'
import { cancelRequested, requestCancel } from '../payments/subscriptions/cancel'
import type { SubscriptionRow } from '../payments/subscriptions/lifecycle'
import { brandOf, brandPage } from './brand-page'

const money = (minor: number, currency: string) => `${formatMinor({ minor, currency })} ${currency}`
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const SUB_ID = /^sub_[0-9A-HJKMNP-TV-Z]{26}$/

const STATUS_LABELS: Record<SubscriptionRow['status'], string> = {
  pending: 'Starting',
  active: 'Active',
  past_due: 'Payment failed, retrying',
  cancelled: 'Cancelled',
  expired: 'Ended',
}

/** The fan's subscription to the creator that still gives access (paid period not over), if any. */
export async function runningSubscription(d1: D1Database, fanUserId: string, creatorId: string, nowMs: number): Promise<SubscriptionRow | null> {
  return d1
    .prepare(
      `SELECT * FROM subscriptions WHERE fan_user_id = ? AND creator_id = ? AND status IN ('active', 'past_due', 'cancelled') AND current_period_end_ms > ?
       ORDER BY current_period_end_ms DESC LIMIT 1`,
    )
    .bind(fanUserId, creatorId, nowMs)
    .first<SubscriptionRow>()
}

function Until({ ms }: { ms: number }) {
  return <time datetime={new Date(ms).toISOString()}>{day(ms)}</time>
}

/** "Subscribed until ...", with whether it renews. */
export function SubscribedUntil({ subscription }: { subscription: SubscriptionRow }) {
  const end = subscription.current_period_end_ms!
  return (
    <p role="status" data-subscription={subscription.id}>
      Subscribed until <Until ms={end} />
      {subscription.status === 'cancelled' || cancelRequested(subscription) ? ' (cancelled: it will not renew).' : ' (renews automatically).'}{' '}
      <a href="/me/subscriptions">Manage</a>
    </p>
  )
}

function dateCell(sub: SubscriptionRow) {
  if (sub.current_period_end_ms === null) return '—'
  if (sub.status === 'active' && !cancelRequested(sub)) return <>Renews <Until ms={sub.current_period_end_ms} /></>
  if (sub.status === 'expired') return <>Ended <Until ms={sub.expired_at_ms ?? sub.current_period_end_ms} /></>
  return <>Access until <Until ms={sub.current_period_end_ms} /></>
}

export async function fanSubscriptionsPage(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'private, no-store')
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent('/me/subscriptions')}`, 302)
  const brand = brandOf(c)
  const { results } = await c.env.DB.prepare(
    `SELECT s.*, c.display_name, c.handle FROM subscriptions s JOIN creators c ON c.id = s.creator_id WHERE s.fan_user_id = ? AND s.brand_id = ? ORDER BY s.id DESC LIMIT 200`,
  )
    .bind(auth.subject, brand.id)
    .all<SubscriptionRow & { display_name: string; handle: string }>()
  const notice = c.req.query('cancelled') !== undefined ? 'Your subscription is cancelled. You keep access until the end of the period you paid for.' : null
  return c.html(
    brandPage(
      c,
      'My subscriptions',
      <section aria-labelledby="title">
        <h1 id="title">My subscriptions</h1>
        {notice ? <p role="status">{notice}</p> : null}
        {results.length === 0 ? (
          <p>You have no subscriptions on {brand.name}.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption>Your subscriptions on {brand.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Creator</th>
                  <th scope="col">Status</th>
                  <th scope="col">Renewal or end</th>
                  <th scope="col">Price</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {results.map((sub) => (
                  <tr data-subscription={sub.id} data-status={sub.status}>
                    <th scope="row">
                      <a href={`/c/${sub.handle}`}>{sub.display_name}</a>
                    </th>
                    <td>{cancelRequested(sub) ? 'Cancellation requested' : STATUS_LABELS[sub.status]}</td>
                    <td>{dateCell(sub)}</td>
                    <td>
                      {money(sub.price_minor, sub.currency)} every {sub.period_days} days
                    </td>
                    <td>
                      {(sub.status === 'active' || sub.status === 'past_due') && !cancelRequested(sub) ? (
                        <form method="post" action={`/me/subscriptions/${sub.id}/cancel`} class="inline-form">
                          <button type="submit" class="secondary" aria-label={`Cancel subscription to ${sub.display_name}`}>
                            Cancel
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>,
    ),
  )
}

/** The Cancel button: same-origin form post by the fan who owns the subscription on this brand. */
export async function cancelSubscriptionFromSite(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent('/me/subscriptions')}`, 303)
  const id = c.req.param('id') ?? ''
  const sub = SUB_ID.test(id)
    ? await c.env.DB.prepare('SELECT * FROM subscriptions WHERE id = ? AND fan_user_id = ? AND brand_id = ?').bind(id, auth.subject, brandOf(c).id).first<SubscriptionRow>()
    : null
  if (!sub) throw new ProblemError('NOT_FOUND', { detail: `no subscription ${id} of yours here` })
  if (sub.status === 'active' || sub.status === 'past_due' || sub.status === 'pending') await requestCancel(c, sub, 'cancelled by the fan')
  // a page that moves on by itself, not a 303: form-action also governs redirects after a post
  c.header('refresh', '0;url=/me/subscriptions?cancelled')
  return c.html(
    brandPage(
      c,
      'Subscription cancelled',
      <section aria-labelledby="title">
        <h1 id="title">Subscription cancelled</h1>
        <p role="status">
          Your subscription will not renew. You keep access until the end of the period you paid for. <a href="/me/subscriptions?cancelled">Back to your subscriptions</a>
        </p>
      </section>,
    ),
  )
}
