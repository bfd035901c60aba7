/**
 * The sandbox SMS adapter: "sending" stores the message in D1 `sms_outbox`, where developers and
 * tests read it through `GET /api/sso/dev/sms-outbox?to=` (dev only). Never used in production
 * (sms.ts); in staging only while Twilio is not configured.
 * @module
 */
import { desc, eq } from 'drizzle-orm'
import { smsOutbox } from '../../../d1/schema'
import { db } from '../../lib/db'
import type { SmsMessage, SmsSender } from './sms'

export class SandboxSmsSender implements SmsSender {
  readonly kind = 'sandbox' as const

  constructor(private readonly d1: D1Database) {}

  async send(message: SmsMessage, nowMs: number = Date.now()): Promise<void> {
    await db(this.d1).insert(smsOutbox).values({ toE164: message.to, body: message.body, createdAtMs: nowMs })
  }
}

/** Messages to one E.164 number, newest first. */
export async function smsOutboxFor(d1: D1Database, toE164: string, limit = 50) {
  return db(d1).select().from(smsOutbox).where(eq(smsOutbox.toE164, toE164)).orderBy(desc(smsOutbox.id)).limit(limit)
}
