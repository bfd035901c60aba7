/**
 * Flood control for the account API with the Throttle Durable Object (throttle.ts): every attempt
 * of a throttled action is counted as a "failure" on its key, so the first FREE_FAILURES pass and
 * then each one waits 1 s, 2 s, 4 s ... (at most 15 min) until the key has been idle for 24 h.
 * Refused attempts are not counted. A refusal is 429 RATE_LIMITED with Retry-After.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { ipKey, type KeyThrottle } from './throttle'

const IP_SHAPE = /^[0-9A-Fa-f:.]{2,45}$/

/** `ip:<cf-connecting-ip>`; anything absent or odd-looking (tests, local dev) shares `ip:unknown`. */
export function clientIpKey(c: Context<AppEnv>): string {
  const ip = c.req.header('cf-connecting-ip')?.trim() ?? ''
  return ipKey(IP_SHAPE.test(ip) ? ip : 'unknown')
}

export function rateLimited(retryAfterS: number, what: string): ProblemError {
  const seconds = Math.max(1, Math.ceil(retryAfterS))
  return new ProblemError('RATE_LIMITED', { detail: `too many ${what}; try again in ${seconds} s`, headers: { 'retry-after': String(seconds) } })
}

/** Refuses when any key is in a wait; otherwise counts one attempt on each. */
export async function spendAttempt(throttles: KeyThrottle[], what: string): Promise<void> {
  const decisions = await Promise.all(throttles.map((t) => t.check()))
  const waits = decisions.flatMap((d) => (d.allowed ? [] : [d.retryAfterS]))
  if (waits.length) throw rateLimited(Math.max(...waits), what)
  await Promise.all(throttles.map((t) => t.recordFailure()))
}
