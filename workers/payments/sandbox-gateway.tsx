/**
 * The sandbox gateway's hosted pages (outside production, on the bare platform host), so the whole
 * payment flow runs locally and in browser tests as it would against a real gateway: the fan is
 * sent here with a signed checkout URL, types a test card (gateways/sandbox.ts `SANDBOX_CARDS`),
 * and the "gateway" posts a signed postback to our webhook before sending the fan back. It keeps
 * its own record of approved sales (R2 `EXPORTS`, `sandbox-gateway/transactions/`) so it can raise
 * a chargeback on demand, like a real gateway's dispute notice.
 *
 * It bills subscriptions as a recurring biller does: a subscription checkout creates a sandbox
 * subscription (`sbx_sub_...`, R2 `sandbox-gateway/subscriptions/`) and its sale names it; the
 * console at /sandbox-gateway/subscriptions rebills it, declines a rebill or cancels it, each
 * followed by the signed postback (rebill, failure, cancellation); merchants cancel through its API
 * `POST /sandbox-gateway/subscriptions/cancel`, like refunds.
 * @module
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { isSameOrigin } from '../edge/same-origin'
import { randomToken } from '../lib/encoding'
import { platformFetch } from '../lib/platform-fetch'
import { platformPage } from '../site/platform-page'
import {
  sandboxCancellation,
  sandboxChargeback,
  sandboxDecision,
  SandboxEventBody,
  sandboxRebill,
  sandboxRebillFailure,
  SandboxSubscription,
  signSandboxPostback,
  verifySandboxCheckout,
} from './gateways/sandbox'
import { sandboxSecret } from './webhooks/settings'

export const sandboxGateway = new Hono<AppEnv>()

const txKey = (id: string) => `sandbox-gateway/transactions/${id}.json`

/** An approved sale the sandbox recorded, by its transaction id. */
async function storedSale(c: Context<AppEnv>, transactionId: string): Promise<SandboxEventBody | null> {
  const stored = /^sbx_tx_[A-Za-z0-9_-]{16}$/.test(transactionId) ? await c.env.EXPORTS.get(txKey(transactionId)) : null
  return stored ? SandboxEventBody.parse(await stored.json()) : null
}

const subKey = (id: string) => `sandbox-gateway/subscriptions/${id}.json`

/** A recurring billing the sandbox keeps, by its id (`sbx_sub_...`). */
async function storedSubscription(c: Context<AppEnv>, id: string): Promise<SandboxSubscription | null> {
  const stored = /^sbx_sub_[A-Za-z0-9_-]{16}$/.test(id) ? await c.env.EXPORTS.get(subKey(id)) : null
  return stored ? SandboxSubscription.parse(await stored.json()) : null
}

async function putSubscription(c: Context<AppEnv>, sub: SandboxSubscription): Promise<void> {
  await c.env.EXPORTS.put(subKey(sub.id), JSON.stringify(sub))
}

function newSubscription(params: URLSearchParams, reference: string, amount: { minor: number; currency: string }): SandboxSubscription {
  const recurring = Number(params.get('recurringAmount') ?? amount.minor)
  const periodDays = Number(params.get('periodDays') ?? 30)
  return SandboxSubscription.parse({
    id: `sbx_sub_${randomToken(12)}`,
    reference,
    amount: { minor: Number.isSafeInteger(recurring) ? recurring : amount.minor, currency: amount.currency },
    periodDays: Number.isSafeInteger(periodDays) && periodDays > 0 ? periodDays : 30,
    status: 'active',
    createdAt: new Date().toISOString(),
    rebills: 0,
    cancelledAt: null,
    cancelReason: null,
  })
}

sandboxGateway.use('/sandbox-gateway/*', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 402 | 502 = 200) {
  return c.html(platformPage(c, 'Sandbox gateway', title, body as never), status)
}

/** The checkout parameters, when the URL carries our valid signature. */
async function checkoutParams(c: Context<AppEnv>, query: string): Promise<URLSearchParams | null> {
  const url = new URL(`${c.var.config.issuer}/sandbox-gateway/checkout?${query}`)
  return verifySandboxCheckout(await sandboxSecret(c.var.config), url.toString()) ? url.searchParams : null
}

sandboxGateway.get('/sandbox-gateway/checkout', async (c) => {
  const query = new URL(c.req.url).search.slice(1)
  const params = await checkoutParams(c, query)
  if (!params) return page(c, 'Invalid checkout', <p>This checkout link is not signed by FANZ. Start again from the site.</p>, 400)
  return page(
    c,
    'Pay with a test card',
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Sandbox gateway · no real money</p>
      <h1 id="title">Pay {params.get('display')} {params.get('currency')}</h1>
      <p>{params.get('description')}</p>
      {params.get('kind') === 'subscription' ? (
        <p>
          Renews every {params.get('periodDays') ?? '30'} days until cancelled; the sandbox console at <a href="/sandbox-gateway/subscriptions">/sandbox-gateway/subscriptions</a> bills it.
        </p>
      ) : null}
      <form method="post" action="/sandbox-gateway/checkout" class="stack">
        <input type="hidden" name="q" value={query} />
        <label for="card">Card number</label>
        <input type="text" id="card" name="card" inputmode="numeric" autocomplete="cc-number" aria-describedby="card-hint" />
        <p class="hint" id="card-hint">
          4242 4242 4242 4242 approves, 4000 0000 0000 0002 declines, 4000 0000 0000 0119 fails technically.
        </p>
        <button type="submit">Pay</button>
      </form>
    </section>,
  )
})

async function postback(c: Context<AppEnv>, body: SandboxEventBody): Promise<Response> {
  const signed = signSandboxPostback(await sandboxSecret(c.var.config), body, Date.now())
  const origin = c.var.config.issuer.replace('//sso.', '//api.')
  return platformFetch(c.env, c.executionCtx as ExecutionContext)(`${origin}/api/payments/webhooks/sandbox`, { method: 'POST', headers: signed.headers, body: signed.rawBody })
}

/** Back to the site without a redirect after the form post (CSP form-action governs those). */
function backTo(c: Context<AppEnv>, url: string, message: string) {
  c.header('refresh', `0;url=${url}`)
  return page(
    c,
    message,
    <p role="status">
      {message} <a href={url}>Return to the site</a>.
    </p>,
  )
}

sandboxGateway.post('/sandbox-gateway/checkout', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = new URLSearchParams(await c.req.text())
  const params = await checkoutParams(c, form.get('q') ?? '')
  if (!params) return page(c, 'Invalid checkout', <p>This checkout link is not signed by FANZ.</p>, 400)
  const decision = sandboxDecision(form.get('card') ?? '')
  const reference = params.get('reference')!
  const amount = { minor: Number(params.get('amount')), currency: params.get('currency')! }
  if (decision.outcome === 'error') {
    // like a real gateway: the merchant hears of the technical failure (so it may retry the payment elsewhere), then the fan goes back to try again
    const failed = await postback(c, { id: `sbx_evt_${randomToken(12)}`, type: 'failure', occurredAt: new Date().toISOString(), reference, transactionId: null, subscriptionId: null, originalTransactionId: null, amount, reason: decision.code })
    if (!failed.ok) return page(c, 'Postback failed', <p>The merchant did not accept the postback ({failed.status}).</p>, 502)
    const back = params.get('successUrl')
    return page(c, 'Technical error', <p role="alert">The sandbox gateway had a technical error ({decision.code}). Nothing was charged. {back ? <a href={back}>Go back to the site to try again</a> : 'Go back to the site to try again.'}</p>, 502)
  }
  const now = new Date().toISOString()
  const transactionId = `sbx_tx_${randomToken(12)}`
  // an approved subscription checkout starts a recurring billing, rebilled from the sandbox console
  const subscription = decision.outcome === 'approve' && params.get('kind') === 'subscription' ? newSubscription(params, reference, amount) : null
  const body: SandboxEventBody =
    decision.outcome === 'approve'
      ? { id: `sbx_evt_${randomToken(12)}`, type: 'sale', occurredAt: now, reference, transactionId, subscriptionId: subscription?.id ?? null, originalTransactionId: null, amount, reason: null }
      : { id: `sbx_evt_${randomToken(12)}`, type: 'failure', occurredAt: now, reference, transactionId: null, subscriptionId: null, originalTransactionId: null, amount, reason: decision.outcome === 'decline' ? decision.code : 'declined' }
  if (body.type === 'sale') await c.env.EXPORTS.put(txKey(transactionId), JSON.stringify(body))
  if (subscription) await putSubscription(c, subscription)
  const delivered = await postback(c, body)
  if (!delivered.ok) return page(c, 'Postback failed', <p>The merchant did not accept the postback ({delivered.status}).</p>, 502)
  const success = params.get('successUrl')
  if (body.type === 'failure') return page(c, 'Card declined', <p>The card was declined. Nothing was charged.</p>, 402)
  return success ? backTo(c, success, 'Payment approved.') : page(c, 'Payment approved', <p>Payment approved.</p>)
})

/** A chargeback on demand for an approved sandbox sale (what a real gateway's dispute notice does). */
sandboxGateway.post('/sandbox-gateway/chargebacks', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = new URLSearchParams(await c.req.text())
  const transactionId = form.get('transaction_id') ?? ''
  const sale = await storedSale(c, transactionId)
  if (!sale) return page(c, 'No such transaction', <p>The sandbox gateway has no approved sale {transactionId}.</p>, 400)
  const delivered = await postback(c, sandboxChargeback(sale, `sbx_cb_${transactionId}`, Date.now()))
  if (!delivered.ok) return page(c, 'Postback failed', <p>The merchant did not accept the chargeback ({delivered.status}).</p>, 502)
  return page(
    c,
    'Chargeback sent',
    <p role="status">
      Chargeback for {transactionId} sent to the merchant. <a href="/sandbox-gateway/transactions">Back to transactions</a>
    </p>,
  )
})

/** The gateway's refund API, as the merchant calls it: a signed refund postback follows. */
sandboxGateway.post('/sandbox-gateway/refunds', async (c) => {
  const form = new URLSearchParams(await c.req.text())
  const transactionId = form.get('transaction_id') ?? ''
  const amountMinor = Number(form.get('amount_minor'))
  const sale = await storedSale(c, transactionId)
  if (!sale) return c.json({ error: 'no such sandbox transaction' }, 404)
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0 || !sale.amount || amountMinor > sale.amount.minor) return c.json({ error: 'amount_minor out of range' }, 400)
  const id = `sbx_rf_${randomToken(12)}`
  const delivered = await postback(c, {
    id, type: 'refund', occurredAt: new Date().toISOString(), reference: sale.reference, transactionId: id, subscriptionId: sale.subscriptionId,
    originalTransactionId: sale.transactionId, amount: { minor: amountMinor, currency: sale.amount.currency }, reason: 'merchant refund',
  })
  return c.json({ refund_id: id, delivered: delivered.status }, delivered.ok ? 200 : 502)
})

/** The sandbox's own console: its recent approved sales, each with a chargeback button. */
sandboxGateway.get('/sandbox-gateway/transactions', async (c) => {
  const listed = await c.env.EXPORTS.list({ prefix: 'sandbox-gateway/transactions/', limit: 1000 })
  const sales = (await Promise.all(listed.objects.map(async (o) => SandboxEventBody.parse(await (await c.env.EXPORTS.get(o.key))!.json())))).sort((a, b) => b.occurredAt.localeCompare(a.occurredAt)).slice(0, 50)
  return page(
    c,
    'Sandbox transactions',
    <section aria-labelledby="title">
      <h1 id="title">Sandbox transactions</h1>
      <p>
        Recurring billings: <a href="/sandbox-gateway/subscriptions">sandbox subscriptions</a> (rebill, decline a rebill, cancel). Open chargebacks:{' '}
        <a href="/sandbox-gateway/disputes">the dispute desk</a> (decide for or against the merchant).
      </p>
      {sales.length === 0 ? <p>No approved sales yet.</p> : null}
      <ul>
        {sales.map((sale) => (
          <li data-reference={sale.reference}>
            {sale.occurredAt} · {sale.reference} · {sale.amount ? `${sale.amount.minor} ${sale.amount.currency} (minor units)` : ''}{' '}
            <form method="post" action="/sandbox-gateway/chargebacks" class="inline-form">
              <input type="hidden" name="transaction_id" value={sale.transactionId ?? ''} />
              <button type="submit" class="secondary" aria-label={`Charge back ${sale.reference}`}>
                Charge back
              </button>
            </form>
          </li>
        ))}
      </ul>
    </section>,
  )
})

type SubscriptionAction = 'rebill' | 'fail' | 'cancel'

/** What the biller does for one console action or merchant call: update its record, post to the merchant. */
async function actOn(c: Context<AppEnv>, sub: SandboxSubscription, action: SubscriptionAction, reason: string): Promise<{ sub: SandboxSubscription; delivered: Response; eventId: string }> {
  const nowMs = Date.now()
  if (action === 'rebill') {
    const transactionId = `sbx_tx_${randomToken(12)}`
    const body = sandboxRebill(sub, `sbx_rb_${randomToken(12)}`, transactionId, nowMs)
    // kept like a sale, so it can be refunded or charged back on its own
    await c.env.EXPORTS.put(txKey(transactionId), JSON.stringify(body))
    const next = { ...sub, rebills: sub.rebills + 1 }
    await putSubscription(c, next)
    return { sub: next, delivered: await postback(c, body), eventId: body.id }
  }
  if (action === 'fail') {
    const body = sandboxRebillFailure(sub, `sbx_rf_${randomToken(12)}`, nowMs)
    return { sub, delivered: await postback(c, body), eventId: body.id }
  }
  const next: SandboxSubscription = { ...sub, status: 'cancelled', cancelledAt: sub.cancelledAt ?? new Date(nowMs).toISOString(), cancelReason: sub.cancelReason ?? reason }
  await putSubscription(c, next)
  // one cancellation per subscription: a repeated cancel request re-sends the same event id
  const body = sandboxCancellation(next, `sbx_cn_${sub.id.slice('sbx_sub_'.length)}`, next.cancelReason!, Date.parse(next.cancelledAt!))
  return { sub: next, delivered: await postback(c, body), eventId: body.id }
}

/** The merchant's cancel API (what our subscriptions API calls): the cancellation postback follows. */
sandboxGateway.post('/sandbox-gateway/subscriptions/cancel', async (c) => {
  const form = new URLSearchParams(await c.req.text())
  const sub = await storedSubscription(c, form.get('subscription_id') ?? '')
  if (!sub) return c.json({ error: 'no such sandbox subscription' }, 404)
  const reason = (form.get('reason') ?? '').trim().slice(0, 200) || 'cancelled by the merchant'
  // cancelled already: the same cancellation (same event id) again, in case the first was not taken
  const done = await actOn(c, sub, 'cancel', sub.cancelReason ?? reason)
  return c.json({ subscription_id: sub.id, status: done.sub.status, event_id: done.eventId, delivered: done.delivered.status }, done.delivered.ok ? 200 : 502)
})

const ACTION_LABELS: Record<SubscriptionAction, string> = { rebill: 'Rebill sent', fail: 'Declined rebill sent', cancel: 'Cancellation sent' }

/** The console's buttons: rebill now, decline a rebill, cancel. */
sandboxGateway.post('/sandbox-gateway/subscriptions/:id/:action{rebill|fail|cancel}', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const action = c.req.param('action') as SubscriptionAction
  const sub = await storedSubscription(c, c.req.param('id'))
  if (!sub) return page(c, 'No such subscription', <p>The sandbox gateway has no subscription {c.req.param('id')}.</p>, 400)
  if (sub.status === 'cancelled') return page(c, 'Subscription cancelled', <p>Subscription {sub.id} is cancelled: nothing more is billed.</p>, 400)
  const done = await actOn(c, sub, action, 'cancelled in the sandbox console')
  if (!done.delivered.ok) return page(c, 'Postback failed', <p>The merchant did not accept the postback ({done.delivered.status}).</p>, 502)
  return page(
    c,
    ACTION_LABELS[action],
    <p role="status">
      {ACTION_LABELS[action]} for {sub.id}. <a href="/sandbox-gateway/subscriptions">Back to subscriptions</a>
    </p>,
  )
})

/** The sandbox's subscriptions console: every recurring billing with its actions. */
sandboxGateway.get('/sandbox-gateway/subscriptions', async (c) => {
  const listed = await c.env.EXPORTS.list({ prefix: 'sandbox-gateway/subscriptions/', limit: 1000 })
  const subs = (await Promise.all(listed.objects.map(async (o) => SandboxSubscription.parse(await (await c.env.EXPORTS.get(o.key))!.json()))))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, 50)
  return page(
    c,
    'Sandbox subscriptions',
    <section aria-labelledby="title">
      <h1 id="title">Sandbox subscriptions</h1>
      <p>
        Each action sends the merchant the signed postback a recurring biller would. <a href="/sandbox-gateway/transactions">Transactions</a>
      </p>
      {subs.length === 0 ? <p>No subscriptions yet.</p> : null}
      <ul>
        {subs.map((sub) => (
          <li data-subscription={sub.id} data-reference={sub.reference}>
            {sub.createdAt} · {sub.id} · {sub.reference} · {sub.amount.minor} {sub.amount.currency} (minor units) every {sub.periodDays} days · {sub.status} · {sub.rebills} rebill(s){' '}
            {sub.status === 'active'
              ? (['rebill', 'fail', 'cancel'] as const).map((action) => (
                  <form method="post" action={`/sandbox-gateway/subscriptions/${sub.id}/${action}`} class="inline-form">
                    <button type="submit" class={action === 'rebill' ? undefined : 'secondary'} aria-label={`${{ rebill: 'Rebill now', fail: 'Fail rebill', cancel: 'Cancel' }[action]} ${sub.id}`}>
                      {{ rebill: 'Rebill now', fail: 'Fail rebill', cancel: 'Cancel' }[action]}
                    </button>
                  </form>
                ))
              : null}
          </li>
        ))}
      </ul>
    </section>,
  )
})
