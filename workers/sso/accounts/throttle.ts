/**
 * `throttle(env, key)`: the Throttle Durable Object of one key, bound to that key so callers cannot
 * record a failure under one name on another key's object. Keys: `account:<normalised email>` (the
 * NIST 100-failure ceiling applies), `ip:<ip>` and `otp-send:<user|sms|email>:<value>` (one-time
 * code resends, otp/flood.ts) with backoff only; see durable-objects/throttle.ts.
 * @module
 */
import { z } from 'zod'
import type { ThrottleDecision } from '../../../durable-objects/throttle'
import { normalizeEmail } from './email'

export type { ThrottleDecision } from '../../../durable-objects/throttle'

export const throttleKey = z.string().regex(/^(account|ip|otp-send:(user|sms|email)):\S{1,320}$/, 'must be account:<email>, ip:<address> or otp-send:<user|sms|email>:<value>')

export function accountKey(email: string): string {
  return `account:${normalizeEmail(email)}`
}

export function ipKey(ip: string): string {
  return `ip:${ip.trim().toLowerCase()}`
}

export interface KeyThrottle {
  key: string
  check(): Promise<ThrottleDecision>
  recordFailure(): Promise<ThrottleDecision>
  recordSuccess(): Promise<void>
}

export function throttle(env: Pick<Env, 'THROTTLE'>, key: string): KeyThrottle {
  const parsed = throttleKey.parse(key)
  const stub = env.THROTTLE.get(env.THROTTLE.idFromName(parsed))
  return {
    key: parsed,
    check: () => stub.check() as Promise<ThrottleDecision>,
    recordFailure: () => stub.recordFailure(parsed) as Promise<ThrottleDecision>,
    recordSuccess: async () => {
      await stub.recordSuccess()
    },
  }
}
