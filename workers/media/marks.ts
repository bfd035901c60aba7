/**
 * Forensic marks: one serial per delivered copy (item x viewer x kind). The serial is what an
 * invisible image mark or an A/B segment pattern carries; `media_marks` maps it back to the item,
 * its creator and the viewer. Rows are append-only (trigger): evidence is never rewritten.
 * @module
 */
import { and, eq, isNull } from 'drizzle-orm'
import { mediaMarks } from '../../d1/schema'
import { db } from '../lib/db'

export type MarkKind = 'image' | 'ab'

export interface Mark {
  serial: number
  itemId: string
  creatorId: string
  viewerId: string | null
  kind: MarkKind
  createdAtMs: number
}

/** The serial of this copy, allocated once: concurrent first deliveries agree on one row. */
export async function markFor(env: Pick<Env, 'DB'>, input: { itemId: string; creatorId: string; viewerId: string | null; kind: MarkKind }, nowMs = Date.now()): Promise<Mark> {
  const d = db(env.DB)
  const where = and(eq(mediaMarks.itemId, input.itemId), input.viewerId === null ? isNull(mediaMarks.viewerId) : eq(mediaMarks.viewerId, input.viewerId), eq(mediaMarks.kind, input.kind))
  const existing = await d.select().from(mediaMarks).where(where).get()
  if (existing) return existing as Mark
  // the unique index (item, viewer, kind) makes the loser of a race a no-op; NULL viewers are
  // distinct to SQLite's unique index, so the creator's own mark is checked above and re-read below
  await d.insert(mediaMarks).values({ ...input, createdAtMs: nowMs }).onConflictDoNothing()
  const row = await d.select().from(mediaMarks).where(where).orderBy(mediaMarks.serial).get()
  if (!row) throw new Error(`media mark for ${input.itemId} was not stored`)
  return row as Mark
}

export async function markBySerial(env: Pick<Env, 'DB'>, serial: number): Promise<Mark | null> {
  const row = await db(env.DB).select().from(mediaMarks).where(eq(mediaMarks.serial, serial)).get()
  return (row as Mark | undefined) ?? null
}
