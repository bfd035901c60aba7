/**
 * The dev mail adapter: "sending" stores the message in D1 `outbox_messages`, where developers and
 * tests read it through `GET /api/sso/dev/outbox?to=` (dev only). Never used in production
 * (mailer.ts); in staging only while no MAIL_API_TOKEN is set.
 * @module
 */
import { and, desc, eq } from 'drizzle-orm'
import { outboxMessages } from '../../../d1/schema'
import { db } from '../../lib/db'
import { normalizeEmail } from '../accounts/email'
import type { Mailer, MailMessage } from './mailer'

export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const

  constructor(
    private readonly d1: D1Database,
    private readonly from: string,
  ) {}

  async send(message: MailMessage, nowMs: number = Date.now()): Promise<void> {
    await db(this.d1).insert(outboxMessages).values({
      toAddress: message.to,
      toNormalized: normalizeEmail(message.to),
      fromAddress: this.from,
      subject: message.subject,
      textBody: message.text,
      htmlBody: message.html,
      createdAtMs: nowMs,
    })
  }
}

/** Messages to one address, newest first. */
export async function outboxFor(d1: D1Database, to: string, limit = 50) {
  return db(d1)
    .select()
    .from(outboxMessages)
    .where(and(eq(outboxMessages.toNormalized, normalizeEmail(to))))
    .orderBy(desc(outboxMessages.id))
    .limit(limit)
}
