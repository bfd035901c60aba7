/**
 * The sandbox gateway's dispute desk (outside production, on the bare platform host): the
 * "acquirer" decides the disputes its chargebacks opened. The sandbox keeps no dispute book of its
 * own, so it lists our open disputes on sandbox payments from D1 (acceptable: it is the sandbox),
 * with the evidence we submitted, and two decisions:
 *
 * - Merchant wins: a signed `chargeback_reversal` postback to `/api/payments/webhooks/sandbox`,
 *   the same path a real gateway's reversal takes, so the ledger reinstates the money through
 *   apply.ts exactly once (event id `sbx_cbr_<dispute id>`: a double click is one event).
 * - Merchant loses: the dispute is closed lost through the same function as the merchant's own
 *   accept (`loseDispute`, audited with `via: gateway_decision`, actor `system:sandbox-gateway`).
 *   No postback: a loss moves no money (the chargeback already did), and no gateway in
 *   ../shared/specs/payments.md documents a "dispute lost" notice, so there is no normalized event
 *   type to map it to; inventing one for the sandbox alone would test nothing real.
 * @module
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { platformFetch } from '../../lib/platform-fetch'
import { platformPage } from '../../site/platform-page'
import { signSandboxPostback, type SandboxEventBody } from '../gateways/sandbox'
import { sandboxSecret } from '../webhooks/settings'
import { type DisputeRow, disputeById, loseDispute } from './cases'

export const sandboxDisputes = new Hono<AppEnv>()

sandboxDisputes.use('/sandbox-gateway/disputes', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})
sandboxDisputes.use('/sandbox-gateway/disputes/*', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 403 | 404 | 409 | 502 = 200) {
  return c.html(platformPage(c, 'Sandbox gateway', title, body as never), status)
}

const back = <a href="/sandbox-gateway/disputes">Back to disputes</a>

/** The reversal postback for a dispute the sandbox decides for the merchant. */
export function sandboxReversal(dispute: Pick<DisputeRow, 'id' | 'payment_id' | 'amount_minor' | 'currency'>, originalTransactionId: string | null, nowMs: number): SandboxEventBody {
  return {
    id: `sbx_cbr_${dispute.id}`,
    type: 'chargeback_reversal',
    occurredAt: new Date(nowMs).toISOString(),
    reference: dispute.payment_id,
    transactionId: null,
    subscriptionId: null,
    originalTransactionId,
    amount: { minor: dispute.amount_minor, currency: dispute.currency },
    reason: 'representment accepted by the issuer',
  }
}

type Listed = DisputeRow & { gateway_transaction_id: string | null }

async function undecided(d1: D1Database): Promise<Listed[]> {
  const { results } = await d1
    .prepare(
      `SELECT d.*, p.gateway_transaction_id FROM disputes d JOIN payments p ON p.id = d.payment_id
       WHERE d.gateway = 'sandbox' AND d.status IN ('open', 'evidence_submitted') ORDER BY d.id DESC LIMIT 100`,
    )
    .all<Listed>()
  return results
}

async function evidenceSummary(bucket: R2Bucket, key: string | null): Promise<{ category: string; summary: string } | null> {
  if (!key) return null
  const stored = await bucket.get(key)
  if (!stored) return null
  const bundle = (await stored.json()) as { representment?: { category?: string; summary?: string } }
  return { category: bundle.representment?.category ?? '', summary: bundle.representment?.summary ?? '' }
}

sandboxDisputes.get('/sandbox-gateway/disputes', async (c) => {
  const disputes = await undecided(c.env.DB)
  const evidence = await Promise.all(disputes.map((d) => evidenceSummary(c.env.EXPORTS, d.evidence_key)))
  return page(
    c,
    'Sandbox disputes',
    <section aria-labelledby="title">
      <p class="eyebrow">Sandbox gateway · acquirer decisions</p>
      <h1 id="title">Disputes awaiting a decision</h1>
      {disputes.length === 0 ? <p>No open disputes on sandbox payments.</p> : null}
      <ul>
        {disputes.map((d, i) => (
          <li data-dispute={d.id}>
            <p>
              {d.id} · payment {d.payment_id} · {d.amount_minor} {d.currency} (minor units) · {d.network ?? 'network unknown'} {d.reason_code ?? ''} · {d.status}
              {d.respond_by_ms ? ` · respond by ${new Date(d.respond_by_ms).toISOString()}` : ''}
            </p>
            {evidence[i] ? (
              <p>
                Evidence ({evidence[i]!.category}): {evidence[i]!.summary}
              </p>
            ) : (
              <p>No evidence submitted yet.</p>
            )}
            <form method="post" action={`/sandbox-gateway/disputes/${d.id}/win`} class="inline-form">
              <button type="submit" aria-label={`Merchant wins ${d.id}`}>
                Merchant wins
              </button>
            </form>
            <form method="post" action={`/sandbox-gateway/disputes/${d.id}/lose`} class="inline-form">
              <button type="submit" class="secondary" aria-label={`Merchant loses ${d.id}`}>
                Merchant loses
              </button>
            </form>
          </li>
        ))}
      </ul>
    </section>,
  )
})

/** The sandbox's dispute, if it is one of its own (a sandbox payment) and still undecided. */
async function decidable(c: Context<AppEnv>): Promise<{ dispute: DisputeRow } | { refused: Response | Promise<Response> }> {
  if (!isSameOrigin(c)) return { refused: c.text('cross-site request refused', 403) }
  const id = c.req.param('id') ?? ''
  const dispute = /^dsp_[0-9A-HJKMNP-TV-Z]{26}$/.test(id) ? await disputeById(c.env.DB, id) : null
  if (!dispute || dispute.gateway !== 'sandbox') return { refused: page(c, 'No such dispute', <p>The sandbox gateway raised no dispute {id}. {back}</p>, 404) }
  if (dispute.status !== 'open' && dispute.status !== 'evidence_submitted') {
    return { refused: page(c, 'Already decided', <p>Dispute {id} is {dispute.status}. {back}</p>, 409) }
  }
  return { dispute }
}

sandboxDisputes.post('/sandbox-gateway/disputes/:id/win', async (c) => {
  const found = await decidable(c)
  if ('refused' in found) return found.refused
  const { dispute } = found
  const payment = await c.env.DB.prepare('SELECT gateway_transaction_id FROM payments WHERE id = ?').bind(dispute.payment_id).first<{ gateway_transaction_id: string | null }>()
  const signed = signSandboxPostback(await sandboxSecret(c.var.config), sandboxReversal(dispute, payment?.gateway_transaction_id ?? null, Date.now()), Date.now())
  const origin = c.var.config.issuer.replace('//sso.', '//api.')
  const delivered = await platformFetch(c.env, c.executionCtx as ExecutionContext)(`${origin}/api/payments/webhooks/sandbox`, { method: 'POST', headers: signed.headers, body: signed.rawBody })
  await delivered.body?.cancel()
  if (!delivered.ok) return page(c, 'Postback failed', <p>The merchant did not accept the reversal ({delivered.status}). {back}</p>, 502)
  return page(
    c,
    'Reversal sent',
    <p role="status">
      Dispute {dispute.id} decided for the merchant: chargeback reversal sent. {back}
    </p>,
  )
})

sandboxDisputes.post('/sandbox-gateway/disputes/:id/lose', async (c) => {
  const found = await decidable(c)
  if ('refused' in found) return found.refused
  const closed = await loseDispute({ env: c.env, actor: 'system:sandbox-gateway', requestId: c.var.requestId }, c.env, found.dispute.id, 'gateway_decision')
  if (!closed.ok) return page(c, 'Already decided', <p>Dispute {found.dispute.id} was decided meanwhile. {back}</p>, 409)
  return page(
    c,
    'Dispute lost',
    <p role="status">
      Dispute {found.dispute.id} decided for the cardholder: closed lost, the chargeback stands. {back}
    </p>,
  )
})
