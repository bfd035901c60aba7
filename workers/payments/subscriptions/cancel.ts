/**
 * Cancelling a subscription is asked of its gateway, never decided here alone: the biller stops
 * rebilling, then its cancellation postback changes our row (lifecycle.ts), the same path a
 * cancellation made in the gateway's own console or by the fan at the biller takes. The sandbox
 * has a cancel API (called in-process, so its postback has landed when this returns); other
 * gateways' adapters carry none yet, so the request is recorded (reason kept, audited) and the row
 * changes when their cancellation postback arrives.
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { platformFetch } from '../../lib/platform-fetch'
import type { SubscriptionRow } from './lifecycle'

export type CancelResult = { status: 'cancelled' | 'requested'; subscription: SubscriptionRow }

const ENDED = new Set(['cancelled', 'expired'])

/** A cancel request on a running subscription: true when one was made and the row not yet changed. */
export function cancelRequested(sub: Pick<SubscriptionRow, 'status' | 'cancel_reason' | 'cancelled_at_ms'>): boolean {
  return (sub.status === 'active' || sub.status === 'past_due' || sub.status === 'pending') && sub.cancel_reason !== null && sub.cancelled_at_ms === null
}

export async function requestCancel(c: Context<AppEnv>, sub: SubscriptionRow, reason: string): Promise<CancelResult> {
  if (ENDED.has(sub.status)) throw new ProblemError('CONFLICT', { detail: `the subscription is already ${sub.status}` })
  // the reason is kept now; the gateway's cancellation postback keeps it (COALESCE in lifecycle.ts)
  await c.env.DB.prepare('UPDATE subscriptions SET cancel_reason = COALESCE(cancel_reason, ?), updated_at_ms = ? WHERE id = ?').bind(reason, Date.now(), sub.id).run()
  let asked: 'sandbox' | 'recorded' = 'recorded'
  if (sub.gateway === 'sandbox' && sub.gateway_subscription_id) {
    const res = await platformFetch(c.env, c.executionCtx as ExecutionContext)(`${c.var.config.issuer.replace('//sso.', '//')}/sandbox-gateway/subscriptions/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ subscription_id: sub.gateway_subscription_id, reason }),
    })
    await res.body?.cancel()
    if (!res.ok) throw new ProblemError('UPSTREAM_ERROR', { detail: `the gateway refused the cancellation (${res.status})` })
    asked = 'sandbox'
  }
  await audit(c, 'payments.subscription.cancel_request', `subscription:${sub.id}`, { reason, gateway: sub.gateway, gateway_subscription_id: sub.gateway_subscription_id, asked })
  const after = (await c.env.DB.prepare('SELECT * FROM subscriptions WHERE id = ?').bind(sub.id).first<SubscriptionRow>())!
  return { status: after.status === 'cancelled' || after.status === 'expired' ? 'cancelled' : 'requested', subscription: after }
}
