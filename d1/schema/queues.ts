import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Messages that exhausted their retries: operators see and resolve them as cases. */
export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    messageId: text('message_id').notNull().unique(),
    bodyJson: text('body_json').notNull(),
    attempts: integer('attempts').notNull(),
    receivedAtMs: integer('received_at_ms').notNull(),
    status: text('status', { enum: ['open', 'resolved'] }).notNull().default('open'),
    resolvedAtMs: integer('resolved_at_ms'),
    resolution: text('resolution'),
  },
  (t) => [index('dead_letters_status_idx').on(t.status, t.receivedAtMs)],
)
