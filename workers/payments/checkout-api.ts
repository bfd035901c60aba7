/**
 * `POST /api/payments/checkout`: opens a payment and answers where to send the fan (the chosen
 * gateway's hosted page). Needs an Idempotency-Key: a retried click must not open two payments.
 * `retry_of` tries a technically failed payment again on another gateway (checkout.ts).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../api/schemas'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { withIdempotency } from '../lib/idempotency'
import { isPlatformHost } from '../lib/platform-fetch'
import { permission, withAccess } from '../sso/roles/access'
import { CURRENCY_EXPONENTS } from './currencies'
import { MAX_RETRIES, startCheckout } from './checkout'
import { PAYMENT_METHODS } from './routing'

const CheckoutRequest = z
  .object({
    creator_id: z.string().regex(/^crt_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a creator id'),
    kind: z.enum(['subscription', 'tip', 'ppv', 'message_unlock']),
    method: z.enum(PAYMENT_METHODS).optional().openapi({ description: 'how the fan pays: card (default), crypto, or bank transfer (ach, sepa, wire); a retry defaults to its original\'s method' }),
    amount_minor: z
      .number()
      .int()
      .min(100)
      .max(100_000_00)
      .optional()
      .openapi({ description: 'integer minor units of `currency`; required for tip, ppv and message_unlock; for a subscription the creator\'s price applies (absent or equal)' }),
    currency: z
      .string()
      .refine((c) => Object.hasOwn(CURRENCY_EXPONENTS, c), 'must be an ISO 4217 code')
      .optional()
      .openapi({ description: 'ISO 4217; required with amount_minor; for a subscription absent or the creator\'s price currency' }),
    retry_of: z
      .string()
      .regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a payment id')
      .optional()
      .openapi({ description: `a failed payment of yours to try again on another gateway: technical failures only, at most ${MAX_RETRIES} retries per original` }),
    return_url: z.url().max(2048).openapi({ description: 'a page on one of our brand hosts the gateway sends the fan back to' }),
  })
  .strict()
  .openapi('PaymentsCheckoutRequest')

const CheckoutStarted = z
  .object({
    payment_id: z.string(),
    gateway: z.string(),
    mid_id: z.string(),
    /** GET this URL (redirect), or POST `fields` to `action` (form) */
    next: z.union([
      z.object({ method: z.literal('GET'), url: z.string() }),
      z.object({ method: z.literal('POST'), action: z.string(), fields: z.record(z.string(), z.string()) }),
    ]),
    method: z.enum(PAYMENT_METHODS),
    amount_minor: z.number().int(),
    currency: z.string(),
    retry_of: z.string().nullable(),
    bank_reference: z.string().nullable().openapi({ description: 'bank transfers: the ISO 11649 creditor reference (RF..) to quote with the transfer' }),
    routing: z.array(z.string()).openapi({ description: 'why this gateway and MID were chosen' }),
  })
  .openapi('PaymentsCheckoutStarted')

export const checkoutRoute = createRoute(
  withIdempotency(
    withAccess(permission('payments:checkout'), {
      method: 'post',
      path: '/checkout',
      tags: ['payments'],
      summary: 'Start paying a creator: choose a gateway, open the payment, answer where to send the fan',
      security: [{ bearer: [] }],
      request: { body: jsonBody(CheckoutRequest) },
      responses: {
        201: json('Payment opened (pending until the gateway reports it)', CheckoutStarted),
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422),
      },
    }),
  ),
)

export function registerCheckout(app: OpenAPIHono<AppEnv>): void {
  app.openapi(checkoutRoute, async (c) => {
    const body = c.req.valid('json')
    // the gateway sends the fan back here: only our own hosts, never an open redirect
    if (!(await isPlatformHost(c.env, new URL(body.return_url).hostname))) {
      throw new ProblemError('VALIDATION_FAILED', { detail: 'return_url must be on a FANZ host', errors: [{ path: 'body.return_url', message: 'must be on a FANZ host' }] })
    }
    const started = await startCheckout(c, c.var.auth!.subject, {
      creatorId: body.creator_id,
      kind: body.kind,
      returnUrl: body.return_url,
      ...(body.method !== undefined ? { method: body.method } : {}),
      ...(body.amount_minor !== undefined ? { amountMinor: body.amount_minor } : {}),
      ...(body.currency !== undefined ? { currency: body.currency } : {}),
      ...(body.retry_of !== undefined ? { retryOf: body.retry_of } : {}),
    })
    const next = started.request.kind === 'form' ? { method: 'POST' as const, action: started.request.action, fields: started.request.fields } : { method: 'GET' as const, url: started.request.url }
    return c.json(
      {
        payment_id: started.paymentId,
        gateway: started.gateway,
        mid_id: started.midId,
        next,
        method: started.method,
        amount_minor: started.amountMinor,
        currency: started.currency,
        retry_of: started.retryOf,
        bank_reference: started.bankReference,
        routing: started.reasons,
      },
      201,
    )
  })
}
