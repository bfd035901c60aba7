/**
 * The sandbox crypto processor (outside production, on the bare platform host): NOWPayments' invoice
 * API and hosted invoice page, so crypto pay-ins run locally and in tests exactly as against the real
 * processor. Checkout POSTs `/sandbox-crypto/v1/invoice` (x-api-key, NOWPayments' body) and sends the
 * fan to the returned `invoice_url`; the page prices the fiat amount in BTC, ETH, USDT or USDC from a
 * fixed rate table with a fake deposit address; "Send payment" posts the signed IPNs waiting ->
 * confirming -> finished to our webhook, "Send too little" ends in partially_paid, "Let it expire" in
 * expired; then the fan goes back to the site. Stateless: the invoice lives in its signed link.
 *
 * Also mounts the bank-transfer instructions page (production too; see bank/instructions-page.tsx)
 * until site/platform.tsx mounts it itself.
 * @module
 */
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { timingSafeEqualText } from '../../lib/encoding'
import { isPlatformHost, platformFetch } from '../../lib/platform-fetch'
import { platformPage } from '../../site/platform-page'
import { formatMinor, parseDecimal } from '../gateways/money'
import { instructionsSignature as linkSignature, verifyInstructionsLink as verifyLink } from '../gateways/bank-transfer'
import { ipnBody, type IpnStatus, type SandboxInvoice, type SandboxPayment, signIpn } from './ipn'
import { COIN_DECIMALS, COIN_NAMES, coinUnitsFor, isSandboxCoin, SANDBOX_COINS, SANDBOX_RATES, sandboxDepositAddress, unitsToDecimal } from './rates'
import { sandboxCryptoSecrets } from './sandbox-secrets'

export const sandboxCrypto = new Hono<AppEnv>()

sandboxCrypto.use('/sandbox-crypto/*', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})

const platformOrigin = (c: Context<AppEnv>) => c.var.config.issuer.replace('//sso.', '//')
const defaultIpnUrl = (c: Context<AppEnv>) => `${c.var.config.issuer.replace('//sso.', '//api.')}/api/payments/webhooks/nowpayments`

/** NOWPayments' error shape. */
const apiError = (c: Context<AppEnv>, status: 400 | 403, code: string, message: string) => c.json({ status: false, statusCode: status, code, message }, status)

function randomDigits(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n))
  // first digit non-zero, so the id is n digits as a JSON number
  return Array.from(bytes, (b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join('')
}

const InvoiceRequest = z.object({
  price_amount: z.number().positive(),
  price_currency: z.string().regex(/^[A-Za-z]{3}$/),
  order_id: z.string().min(1).max(100),
  order_description: z.string().max(500).optional(),
  ipn_callback_url: z.url().optional(),
  success_url: z.url().optional(),
  cancel_url: z.url().optional(),
})

/** NOWPayments' `POST /v1/invoice`. */
sandboxCrypto.post('/sandbox-crypto/v1/invoice', async (c) => {
  const secrets = await sandboxCryptoSecrets(c.var.config)
  if (!timingSafeEqualText(c.req.header('x-api-key') ?? '', secrets.apiKey)) return apiError(c, 403, 'INVALID_API_KEY', 'Invalid api key')
  let body: z.infer<typeof InvoiceRequest>
  try {
    body = InvoiceRequest.parse(JSON.parse(await c.req.text()))
  } catch {
    return apiError(c, 400, 'INVALID_REQUEST_PARAMS', 'price_amount, price_currency and order_id are required')
  }
  const fiat = body.price_currency.toUpperCase()
  const price = SANDBOX_RATES[fiat] ? parseDecimal(String(body.price_amount), fiat) : null
  if (!price) return apiError(c, 400, 'INVALID_REQUEST_PARAMS', `price_currency ${body.price_currency} or price_amount ${body.price_amount} not supported by the sandbox`)
  for (const url of [body.ipn_callback_url, body.success_url, body.cancel_url]) {
    // the sandbox only ever talks to and sends fans back to this platform
    if (url && !(await isPlatformHost(c.env, new URL(url).hostname))) return apiError(c, 400, 'INVALID_REQUEST_PARAMS', `${url} is not a FANZ host`)
  }
  const invoiceId = randomDigits(10)
  const params = new URLSearchParams({ iid: invoiceId, order_id: body.order_id, price: String(price.minor), fiat, desc: body.order_description ?? '' })
  if (body.success_url) params.set('success', body.success_url)
  if (body.cancel_url) params.set('cancel', body.cancel_url)
  if (body.ipn_callback_url) params.set('ipn', body.ipn_callback_url)
  params.set('sig', linkSignature(secrets.linkSecret, params.toString()))
  const now = new Date().toISOString()
  return c.json({
    id: invoiceId,
    token_id: invoiceId.slice(0, 8),
    order_id: body.order_id,
    order_description: body.order_description ?? null,
    price_amount: formatMinor(price),
    price_currency: body.price_currency.toLowerCase(),
    pay_currency: null,
    ipn_callback_url: body.ipn_callback_url ?? null,
    invoice_url: `${platformOrigin(c)}/sandbox-crypto/invoice?${params}`,
    success_url: body.success_url ?? null,
    cancel_url: body.cancel_url ?? null,
    created_at: now,
    updated_at: now,
  })
})

interface InvoiceLink extends SandboxInvoice {
  successUrl: string | null
  cancelUrl: string | null
  ipnUrl: string | null
}

async function invoiceFrom(c: Context<AppEnv>, query: string): Promise<InvoiceLink | null> {
  const params = verifyLink((await sandboxCryptoSecrets(c.var.config)).linkSecret, query)
  if (!params) return null
  return {
    invoiceId: params.get('iid')!,
    orderId: params.get('order_id')!,
    orderDescription: params.get('desc') ?? '',
    priceMinor: Number(params.get('price')),
    fiat: params.get('fiat')!,
    successUrl: params.get('success'),
    cancelUrl: params.get('cancel'),
    ipnUrl: params.get('ipn'),
  }
}

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 502 = 200) {
  return c.html(platformPage(c, 'Sandbox crypto processor', title, body as never), status)
}

sandboxCrypto.get('/sandbox-crypto/invoice', async (c) => {
  const query = new URL(c.req.url).search.slice(1)
  const invoice = await invoiceFrom(c, query)
  if (!invoice) return page(c, 'Invalid invoice', <p>This invoice link is not signed by the sandbox processor. Start again from the site.</p>, 400)
  const price = formatMinor({ minor: invoice.priceMinor, currency: invoice.fiat })
  return page(
    c,
    'Pay with crypto',
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Sandbox crypto processor · no real coins</p>
      <h1 id="title">
        Pay {price} {invoice.fiat}
      </h1>
      <p>{invoice.orderDescription}</p>
      <form method="post" action="/sandbox-crypto/invoice" class="stack">
        <input type="hidden" name="q" value={query} />
        <fieldset>
          <legend>Pay in</legend>
          {SANDBOX_COINS.map((coin, i) => (
            <p>
              <input type="radio" id={`coin-${coin}`} name="pay_currency" value={coin} checked={i === 0} />{' '}
              <label for={`coin-${coin}`}>
                {unitsToDecimal(coinUnitsFor(invoice.priceMinor, invoice.fiat, coin)!, COIN_DECIMALS[coin])} {coin.toUpperCase()} · {COIN_NAMES[coin]} at {SANDBOX_RATES[invoice.fiat]![coin]} {invoice.fiat}
              </label>
              <br />
              <span class="hint">
                Deposit address: <code>{sandboxDepositAddress(invoice.invoiceId, coin)}</code>
              </span>
            </p>
          ))}
        </fieldset>
        <p class="hint">The sandbox sends the processor's signed notifications to the site: waiting, confirming, then finished (or partially paid, or expired).</p>
        <button type="submit" name="action" value="pay">
          Send payment
        </button>
        <button type="submit" name="action" value="underpay" class="secondary">
          Send too little
        </button>
        <button type="submit" name="action" value="expire" class="secondary">
          Let it expire
        </button>
      </form>
    </section>,
  )
})

/** Back to the site without a redirect after the form post (CSP form-action governs those). */
function backTo(c: Context<AppEnv>, url: string | null, message: string) {
  if (url) c.header('refresh', `0;url=${url}`)
  return page(
    c,
    message,
    <p role="status">
      {message} {url ? <a href={url}>Return to the site</a> : null}
    </p>,
  )
}

const Action = z.object({ q: z.string().max(4096), pay_currency: z.string(), action: z.enum(['pay', 'underpay', 'expire']) })

sandboxCrypto.post('/sandbox-crypto/invoice', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = Action.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())))
  if (!form.success || !isSandboxCoin(form.data.pay_currency)) return page(c, 'Invalid request', <p>Choose a coin and an action.</p>, 400)
  const invoice = await invoiceFrom(c, form.data.q)
  if (!invoice) return page(c, 'Invalid invoice', <p>This invoice link is not signed by the sandbox processor.</p>, 400)
  const coin = form.data.pay_currency
  const payUnits = coinUnitsFor(invoice.priceMinor, invoice.fiat, coin)!
  const payment: SandboxPayment = { paymentId: randomDigits(10), purchaseId: randomDigits(10), coin, payUnits, paidUnits: 0n, createdAt: new Date().toISOString() }
  // underpaying sends 90% of the coins asked for
  const sent = form.data.action === 'pay' ? payUnits : form.data.action === 'underpay' ? (payUnits * 9n) / 10n : 0n
  const steps: Array<[IpnStatus, bigint]> =
    form.data.action === 'expire' ? [['waiting', 0n], ['expired', 0n]] : [['waiting', 0n], ['confirming', sent], [form.data.action === 'pay' ? 'finished' : 'partially_paid', sent]]
  const { ipnSecret } = await sandboxCryptoSecrets(c.var.config)
  const send = platformFetch(c.env, c.executionCtx as ExecutionContext)
  for (const [status, paid] of steps) {
    const signed = signIpn(ipnSecret, ipnBody(invoice, { ...payment, paidUnits: paid }, status, new Date().toISOString()))
    const delivered = await send(invoice.ipnUrl ?? defaultIpnUrl(c), { method: 'POST', headers: signed.headers, body: signed.rawBody })
    await delivered.body?.cancel()
    if (!delivered.ok) return page(c, 'IPN refused', <p>The merchant did not accept the {status} notification ({delivered.status}).</p>, 502)
  }
  const fiat = `${formatMinor({ minor: invoice.priceMinor, currency: invoice.fiat })} ${invoice.fiat}`
  if (form.data.action === 'pay') return backTo(c, invoice.successUrl, `Payment of ${unitsToDecimal(payUnits, COIN_DECIMALS[coin])} ${coin.toUpperCase()} (${fiat}) received.`)
  if (form.data.action === 'underpay') return backTo(c, invoice.cancelUrl ?? invoice.successUrl, `Only ${unitsToDecimal(sent, COIN_DECIMALS[coin])} of ${unitsToDecimal(payUnits, COIN_DECIMALS[coin])} ${coin.toUpperCase()} arrived: the payment is partially paid and was not accepted.`)
  return backTo(c, invoice.cancelUrl ?? invoice.successUrl, 'The invoice expired. Nothing was paid.')
})
