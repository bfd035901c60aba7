/**
 * `media.hashlist.import`: reads an imported hash-list file (stored as received in EXPORTS) in
 * chunks of lines and adds its entries to the list in the HashIndex. One message = one chunk
 * (default 5,000 lines, read as one R2 range); the handler enqueues the next chunk, because a queue
 * message is at most 128 KB and a consumer runs at most 15 minutes, while a list may hold millions.
 *
 * Lines: `pdq,<64 hex>[,ref]`, `md5,<32 hex>[,ref]`, or a bare 64-hex PDQ / 32-hex MD5; blank
 * lines, `#` comments and a `kind,hash[,ref]` header are skipped. Anything else is invalid and
 * counted with its line number and reason (the first 100 kept).
 *
 * Exactly-once counting: the import row's `lines_total` is the cursor. A chunk is applied only if
 * the row still stands at the chunk's first line, and the list's entry count and the import's
 * counters move in one D1 batch guarded by that cursor, so a redelivered message changes nothing
 * (the index itself is idempotent: the same hash in the same list once). A redelivery that finds
 * its own chunk applied re-sends the next chunk's message, in case the first delivery stopped
 * between the update and the send.
 * @module
 */
import { z } from 'zod'
import { log } from '../../edge/logger'
import { registerMessageHandler } from '../../queues'
import type { IndexEntryInput } from '../../../durable-objects/hash-index'
import { hashIndex } from './match'
import { normalizeHash } from './hamming'

export const IMPORT_MESSAGE_TYPE = 'media.hashlist.import'
export const DEFAULT_CHUNK_LINES = 5_000
export const MAX_KEPT_ERRORS = 100
/** a valid line is at most `md5,` + 64 hex + `,` + a 200-character ref (+ CRLF) */
export const MAX_REF_CHARS = 200
const WINDOW_BYTES_PER_LINE = 300

export const ImportChunk = z.object({
  importId: z.string().regex(/^hli_[0-9A-HJKMNP-TV-Z]{26}$/),
  startLine: z.number().int().min(0),
  startByte: z.number().int().min(0),
  chunkLines: z.number().int().min(1).max(50_000).default(DEFAULT_CHUNK_LINES),
})
export type ImportChunk = z.infer<typeof ImportChunk>

export interface ImportLineError {
  line: number
  reason: string
}

export type ParsedLine = { ok: true; entry: IndexEntryInput } | { ok: false; reason: string } | { ok: 'skip' }

/** One line of an import file (without its line break). */
export function parseImportLine(raw: string, lineNumber: number): ParsedLine {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
  if (lineNumber === 1 && line.startsWith('\uFEFF')) line = line.slice(1)
  line = line.trim()
  if (!line || line.startsWith('#')) return { ok: 'skip' }
  const fields = line.split(',').map((f) => f.trim())
  if (lineNumber === 1 && /^(kind|type)$/i.test(fields[0]!) && /^hash$/i.test(fields[1] ?? '')) return { ok: 'skip' }
  if (fields.length === 1) {
    const parsed = normalizeHash(fields[0]!)
    return parsed ? { ok: true, entry: { kind: parsed.kind, hash: parsed.hex, ref: null } } : { ok: false, reason: 'not a PDQ (64 hex digits) or MD5 (32 hex digits)' }
  }
  const kind = fields[0]!.toLowerCase()
  if (kind !== 'pdq' && kind !== 'md5') return { ok: false, reason: `unknown kind "${fields[0]!.slice(0, 20)}" (pdq or md5)` }
  if (fields.length > 3) return { ok: false, reason: 'too many fields (kind,hash[,ref])' }
  const parsed = normalizeHash(fields[1] ?? '')
  if (!parsed || parsed.kind !== kind) return { ok: false, reason: kind === 'pdq' ? 'pdq hash must be 64 hex digits' : 'md5 hash must be 32 hex digits' }
  const ref = fields[2] || null
  if (ref && ref.length > MAX_REF_CHARS) return { ok: false, reason: `ref longer than ${MAX_REF_CHARS} characters` }
  return { ok: true, entry: { kind: parsed.kind, hash: parsed.hex, ref } }
}

type ImportRow = { id: string; list_id: string; object_key: string; status: string; lines_total: number; errors_json: string }

interface ChunkRead {
  lines: string[]
  /** byte offset after the last line consumed */
  nextByte: number
  atEnd: boolean
  /** lines too long to be valid (their text is not kept) */
  tooLong: Set<number>
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Reads up to `maxLines` lines from `startByte` with R2 range reads. */
async function readChunk(env: Env, key: string, startByte: number, maxLines: number): Promise<ChunkRead | null> {
  const window = maxLines * WINDOW_BYTES_PER_LINE
  const lines: string[] = []
  const tooLong = new Set<number>()
  const object = await env.EXPORTS.get(key, { range: { offset: startByte, length: window } })
  if (!object) return null
  const bytes = new Uint8Array(await object.arrayBuffer())
  const atEnd = startByte + bytes.length >= object.size
  let lineStart = 0
  for (let i = 0; i < bytes.length && lines.length < maxLines; i++) {
    if (bytes[i] !== 10) continue
    lines.push(decodeLine(bytes.subarray(lineStart, i)))
    lineStart = i + 1
  }
  if (lines.length < maxLines && atEnd && lineStart < bytes.length) {
    lines.push(decodeLine(bytes.subarray(lineStart)))
    lineStart = bytes.length
  }
  if (lines.length || atEnd) return { lines, nextByte: startByte + lineStart, atEnd: atEnd && startByte + lineStart >= object.size, tooLong }
  // not one whole line in the window: skip to the next line break and count the line as invalid
  tooLong.add(0)
  lines.push('')
  const skipped = await skipLine(env, key, startByte + bytes.length, window)
  return { lines, nextByte: skipped.nextByte, atEnd: skipped.atEnd, tooLong }
}

async function skipLine(env: Env, key: string, from: number, window: number): Promise<{ nextByte: number; atEnd: boolean }> {
  let offset = from
  for (;;) {
    const object = await env.EXPORTS.get(key, { range: { offset, length: window } })
    if (!object) return { nextByte: offset, atEnd: true }
    const bytes = new Uint8Array(await object.arrayBuffer())
    const newline = bytes.indexOf(10)
    if (newline >= 0) return { nextByte: offset + newline + 1, atEnd: offset + newline + 1 >= object.size }
    offset += bytes.length
    if (offset >= object.size) return { nextByte: object.size, atEnd: true }
  }
}

function decodeLine(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    return '\u0000not-utf8'
  }
}

export type ChunkOutcome =
  | { status: 'applied'; next: ImportChunk | null; lines: number; added: number; duplicates: number; invalid: number }
  | { status: 'skipped'; next: ImportChunk | null; reason: string }

/**
 * Applies one chunk of an import (exactly once, see the module comment) and says which chunk comes
 * next (null at the end of the file, or when there is nothing to do).
 */
export async function processImportChunk(env: Env, chunk: ImportChunk): Promise<ChunkOutcome> {
  const row = await env.DB.prepare('SELECT id, list_id, object_key, status, lines_total, errors_json FROM media_hash_list_imports WHERE id = ?').bind(chunk.importId).first<ImportRow>()
  // gone (the database was reset, the list deleted): nothing to retry
  if (!row) return { status: 'skipped', next: null, reason: 'no such import' }
  if (row.status === 'done' || row.status === 'failed') return { status: 'skipped', next: null, reason: `import is ${row.status}` }
  if (row.lines_total < chunk.startLine) return { status: 'skipped', next: null, reason: 'an earlier chunk is not applied yet' }
  const read = await readChunk(env, row.object_key, chunk.startByte, chunk.chunkLines)
  if (!read) {
    await env.DB.prepare("UPDATE media_hash_list_imports SET status = 'failed', finished_at_ms = ? WHERE id = ? AND status IN ('queued', 'running')").bind(Date.now(), row.id).run()
    return { status: 'skipped', next: null, reason: 'the import file is missing' }
  }
  const next = read.atEnd ? null : { ...chunk, startLine: chunk.startLine + read.lines.length, startByte: read.nextByte }
  if (row.lines_total > chunk.startLine) {
    // this chunk (or more) was applied by an earlier delivery; make sure the next one was sent
    return { status: 'skipped', next: row.lines_total === chunk.startLine + read.lines.length ? next : null, reason: 'chunk already applied' }
  }
  const list = await env.DB.prepare('SELECT id FROM media_hash_lists WHERE id = ?').bind(row.list_id).first<{ id: string }>()
  if (!list) {
    await env.DB.prepare("UPDATE media_hash_list_imports SET status = 'failed', finished_at_ms = ? WHERE id = ?").bind(Date.now(), row.id).run()
    return { status: 'skipped', next: null, reason: 'the list was deleted' }
  }

  const entries: IndexEntryInput[] = []
  const errors: ImportLineError[] = JSON.parse(row.errors_json) as ImportLineError[]
  let invalid = 0
  read.lines.forEach((text, i) => {
    const lineNumber = chunk.startLine + i + 1
    const parsed: ParsedLine =
      read.tooLong.has(i) ? { ok: false, reason: `line longer than ${chunk.chunkLines * WINDOW_BYTES_PER_LINE} bytes` }
      : text === '\u0000not-utf8' ? { ok: false, reason: 'not UTF-8 text' }
      : parseImportLine(text, lineNumber)
    if (parsed.ok === true) entries.push(parsed.entry)
    else if (parsed.ok === false) {
      invalid++
      if (errors.length < MAX_KEPT_ERRORS) errors.push({ line: lineNumber, reason: parsed.reason })
    }
  })
  let added = 0
  let duplicates = 0
  if (entries.length) {
    const r = await hashIndex(env).add(row.list_id, entries)
    // the lines were validated above: a refusal here is a bug, retried and then dead-lettered
    if (!r.ok) throw new Error(`hash index refused import ${row.id}: ${JSON.stringify(r)}`)
    added = r.added
    duplicates = r.duplicates
  }
  const now = Date.now()
  const linesAfter = chunk.startLine + read.lines.length
  const [listUpdate, importUpdate] = await env.DB.batch([
    env.DB.prepare(
      `UPDATE media_hash_lists SET entry_count = entry_count + ?, updated_at_ms = ?
       WHERE id = ? AND EXISTS (SELECT 1 FROM media_hash_list_imports WHERE id = ? AND lines_total = ? AND status IN ('queued', 'running'))`,
    ).bind(added, now, row.list_id, row.id, chunk.startLine),
    env.DB.prepare(
      `UPDATE media_hash_list_imports
       SET status = ?, lines_total = ?, added = added + ?, duplicates = duplicates + ?, invalid = invalid + ?, errors_json = ?, finished_at_ms = ?
       WHERE id = ? AND lines_total = ? AND status IN ('queued', 'running')`,
    ).bind(next ? 'running' : 'done', linesAfter, added, duplicates, invalid, JSON.stringify(errors), next ? null : now, row.id, chunk.startLine),
  ])
  if (!importUpdate!.meta.changes) {
    // a concurrent delivery of the same chunk won the race; its counts stand, and it sends the next
    return { status: 'skipped', next: null, reason: 'chunk applied concurrently' }
  }
  void listUpdate
  return { status: 'applied', next, lines: read.lines.length, added, duplicates, invalid }
}

/** The queue message for a chunk. */
export function importMessage(chunk: ImportChunk) {
  return { type: IMPORT_MESSAGE_TYPE, id: `${chunk.importId}:${chunk.startLine}`, payload: chunk }
}

registerMessageHandler(IMPORT_MESSAGE_TYPE, async (payload, env) => {
  const parsed = ImportChunk.safeParse(payload)
  if (!parsed.success) {
    // no deploy will understand it: log and ack rather than burn retries
    log('error', 'error', 'hashlist_import_malformed', { issues: parsed.error.issues.map((i) => i.message).join('; ') })
    return
  }
  const outcome = await processImportChunk(env, parsed.data)
  if (outcome.next) await env.MEDIA_INGEST.send(importMessage(outcome.next), { contentType: 'json' })
})
