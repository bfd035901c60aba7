/**
 * The sandbox gateway's hosted pages (outside production, on the bare platform host), so the whole
 * payment flow runs locally and in browser tests as it would against a real gateway: the fan is
 * sent here with a signed checkout URL, types a test card (gateways/sandbox.ts `SANDBOX_CARDS`),
 * and the "gateway" posts a signed postback to our webhook before sending the fan back. It keeps
 * its own record of approved sales (R2 `EXPORTS`, `sandbox-gateway/transactions/`) so it can raise
 * a chargeback on demand, like a real gateway's dispute notice.
 * @module
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { isSameOrigin } from '../edge/same-origin'
import { randomToken } from '../lib/encoding'
import { platformFetch } from '../lib/platform-fetch'
import { platformPage } from '../site/platform-page'
import { sandboxChargeback, sandboxDecision, SandboxEventBody, signSandboxPostback, verifySandboxCheckout } from './gateways/sandbox'
import { sandboxSecret } from './webhooks/settings'

export const sandboxGateway = new Hono<AppEnv>()

const txKey = (id: string) => `sandbox-gateway/transactions/${id}.json`

/** An approved sale the sandbox recorded, by its transaction id. */
async function storedSale(c: Context<AppEnv>, transactionId: string): Promise<SandboxEventBody | null> {
  const stored = /^sbx_tx_[A-Za-z0-9_-]{16}$/.test(transactionId) ? await c.env.EXPORTS.get(txKey(transactionId)) : null
  return stored ? SandboxEventBody.parse(await stored.json()) : null
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
  if (decision.outcome === 'error') return page(c, 'Technical error', <p>The sandbox gateway had a technical error. Nothing was charged; try again.</p>, 502)
  const now = new Date().toISOString()
  const transactionId = `sbx_tx_${randomToken(12)}`
  const body: SandboxEventBody =
    decision.outcome === 'approve'
      ? { id: `sbx_evt_${randomToken(12)}`, type: 'sale', occurredAt: now, reference, transactionId, subscriptionId: null, originalTransactionId: null, amount, reason: null }
      : { id: `sbx_evt_${randomToken(12)}`, type: 'failure', occurredAt: now, reference, transactionId: null, subscriptionId: null, originalTransactionId: null, amount, reason: decision.outcome === 'decline' ? decision.code : 'declined' }
  if (body.type === 'sale') await c.env.EXPORTS.put(txKey(transactionId), JSON.stringify(body))
  const delivered = await postback(c, body)
  if (!delivered.ok) return page(c, 'Postback failed', <p>The merchant did not accept the postback ({delivered.status}).</p>, 502)
  const success = params.get('successUrl')
  if (body.type === 'failure') return page(c, 'Card declined', <p>The card was declined. Nothing was charged.</p>, 402)
  return success ? backTo(c, success, 'Payment approved.') : page(c, 'Payment approved', <p>Payment approved.</p>)
})

/** A chargeback on demand for an approved sandbox sale (what a real gateway's dispute notice does). */
sandboxGateway.post('/sandbox-gateway/chargebacks', async (c) => {
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
