/**
 * Executes a gateway's server-side checkout request (`CheckoutRequest` of kind 'api'), today
 * NOWPayments' `POST /v1/invoice`, and answers the hosted page to send the fan to, as a redirect.
 * Checkout calls it on whatever the adapter built: redirects and forms pass through unchanged.
 * Our own hosts (the sandbox processor outside production) are reached in-process through
 * `platformFetch`; NOWPayments over the network.
 * @module
 */
import { z } from 'zod'
import { ProblemError } from '../../edge/problem'
import { platformFetch } from '../../lib/platform-fetch'
import type { CheckoutRequest } from '../gateways/types'

/** The part of NOWPayments' invoice answer we use; `id` is a number there, a string in some SDKs. */
const InvoiceCreated = z.object({ id: z.union([z.string(), z.number()]), invoice_url: z.url() })

export const INVOICE_TIMEOUT_MS = 10_000

/** 'api' -> the hosted page it returns, as a redirect; other kinds unchanged. Failures are 502 problems. */
export async function hostedCheckoutRequest(env: Env, ctx: ExecutionContext, request: CheckoutRequest): Promise<Extract<CheckoutRequest, { kind: 'redirect' | 'form' }>> {
  if (request.kind !== 'api') return request
  let res: Response
  try {
    res = await platformFetch(env, ctx)(request.url, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(INVOICE_TIMEOUT_MS) })
  } catch (err) {
    throw new ProblemError('UPSTREAM_ERROR', { detail: 'the payment processor could not be reached; try again', cause: err })
  }
  const text = await res.text()
  if (!res.ok) {
    console.warn(JSON.stringify({ event: 'invoice_refused', url: request.url, status: res.status, body: text.slice(0, 500) }))
    throw new ProblemError('UPSTREAM_ERROR', { detail: `the payment processor refused the invoice (${res.status})` })
  }
  let parsed: z.infer<typeof InvoiceCreated>
  try {
    parsed = InvoiceCreated.parse(JSON.parse(text))
  } catch (err) {
    throw new ProblemError('UPSTREAM_ERROR', { detail: 'the payment processor answered without an invoice_url', cause: err })
  }
  const url = new URL(parsed.invoice_url)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ProblemError('UPSTREAM_ERROR', { detail: 'the invoice URL is not a web page' })
  return { kind: 'redirect', method: 'GET', url: url.toString() }
}
