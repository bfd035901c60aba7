/**
 * Inbound gateway postbacks (`POST /api/payments/webhooks/{gateway}`), in this order:
 * 1. verify the gateway's signature (or its source IP + URL token where it publishes no signature)
 *    on the raw body, before anything is parsed; a forged or altered postback gets 400 and leaves
 *    no trace but a log line;
 * 2. keep the raw request in R2 as evidence (content-addressed, so 20 copies are one object);
 * 3. parse into normalized events and insert each once on (gateway, event id): a duplicate, even
 *    20 at the same instant, is answered 2xx and changes nothing (D1 decides the one insert);
 * 4. hand the newly inserted events to `applyEvents` (ledger effects, in payments/apply.ts).
 * Gateways retry on anything but 2xx, so once verified and stored the answer is 200 even when
 * applying is deferred (an event waiting for its sale is not an error of the postback).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { sha256Hex } from '../../lib/encoding'
import { adapterFor, isGatewayId } from '../gateways/registry'
import type { GatewayId, NormalizedEvent, PostbackRequest } from '../gateways/types'
import { gatewaySettings } from './settings'
import { paymentKeys } from '../../../r2/keys'

export const MAX_POSTBACK_BYTES = 256 * 1024

export interface Ingested {
  gateway: GatewayId
  evidenceKey: string
  inserted: NormalizedEvent[]
  duplicates: number
}

export async function readPostback(c: Context<AppEnv>): Promise<PostbackRequest> {
  const length = Number(c.req.header('content-length') ?? '0')
  if (length > MAX_POSTBACK_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `postbacks are at most ${MAX_POSTBACK_BYTES} bytes` })
  const rawBody = await c.req.text()
  if (rawBody.length > MAX_POSTBACK_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `postbacks are at most ${MAX_POSTBACK_BYTES} bytes` })
  const headers: Record<string, string> = {}
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value
  })
  return { method: c.req.method, url: c.req.url, headers, rawBody, sourceIp: c.req.header('cf-connecting-ip') ?? '' }
}

function evidenceKey(gateway: GatewayId, request: PostbackRequest, nowMs: number): string {
  return paymentKeys.postbackEvidence(gateway, nowMs, sha256Hex(`${request.url}\n${request.rawBody}`))
}

export async function ingestPostback(c: Context<AppEnv>, gatewayParam: string, nowMs = Date.now()): Promise<Ingested> {
  if (!isGatewayId(gatewayParam)) throw new ProblemError('NOT_FOUND', { detail: `no gateway called ${gatewayParam}` })
  const gateway = gatewayParam
  const settings = await gatewaySettings(c.env, c.var.config, gateway)
  if (!settings) throw new ProblemError('NOT_FOUND', { detail: `gateway ${gateway} is not configured here` })
  const adapter = adapterFor(gateway)
  const request = await readPostback(c)
  const verified = adapter.verifyPostback(settings as never, request, nowMs)
  if (!verified.ok) {
    console.warn(JSON.stringify({ event: 'postback_refused', gateway, reason: verified.reason, request_id: c.var.requestId }))
    // 400, not 401: the route is public, the postback's own signature (or source) is what failed
    throw new ProblemError('SIGNATURE_INVALID', { detail: `postback refused: ${verified.reason}` })
  }
  const key = evidenceKey(gateway, request, nowMs)
  await c.env.EXPORTS.put(key, JSON.stringify({ received_at: new Date(nowMs).toISOString(), method: request.method, url: request.url, headers: request.headers, source_ip: request.sourceIp, body: request.rawBody }), {
    httpMetadata: { contentType: 'application/json' },
    customMetadata: { gateway, request_id: c.var.requestId },
  })
  const parsed = adapter.parsePostback(settings as never, request)
  if (!parsed.ok) throw new ProblemError('VALIDATION_FAILED', { detail: `postback not understood: ${parsed.reason}`, errors: [{ path: 'body', message: parsed.reason }] })

  const statements = parsed.events.map((e) =>
    c.env.DB.prepare(
      `INSERT INTO gateway_events (gateway, event_id, type, payment_id, gateway_transaction_id, original_transaction_id, subscription_id, amount_minor, currency, reason, occurred_at_ms, evidence_key, status, received_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?) ON CONFLICT (gateway, event_id) DO NOTHING RETURNING event_id`,
    ).bind(
      gateway, e.eventId, e.type, e.reference, e.transactionId, e.originalTransactionId, e.subscriptionId, e.amount?.minor ?? null, e.amount?.currency ?? null,
      e.reason?.slice(0, 500) ?? null, Date.parse(e.occurredAt) || nowMs, key, nowMs,
    ),
  )
  const results = statements.length ? await c.env.DB.batch<{ event_id: string }>(statements) : []
  const inserted = parsed.events.filter((_, i) => (results[i]?.results.length ?? 0) > 0)
  return { gateway, evidenceKey: key, inserted, duplicates: parsed.events.length - inserted.length }
}
