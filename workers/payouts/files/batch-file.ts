/**
 * Writes the bank file of an approved file-rail batch (NACHA, pain.001.001.09, wire or check
 * register) to the EXPORTS bucket, records it in `payout_files`, gives each payout the reference the
 * bank will quote back (`processor_ref`: trace number, EndToEndId, register reference), moves the
 * payouts to `submitted` and the batch to `submitted` with `external_ref` = the file id. Called by
 * submitBatch (batches/submit.ts) after approval.
 *
 * Order, and why it is safe to run again at any point:
 * 1. a `payout_files` row for the batch already exists and the batch names it -> that file, nothing
 *    written (the unique index on batch_id makes this the one file of the batch);
 * 2. otherwise the file is built from the payouts still `pending`/`queued`; a payout whose method
 *    cannot be paid on this rail (wrong type or currency, a name the format cannot carry) is failed
 *    first (hold voided, money back to available) and the file is built without it;
 * 3. bytes to R2, then the row (INSERT .. ON CONFLICT DO NOTHING: a concurrent writer that lost
 *    deletes its object and finishes the winner's file), then the payouts, then the batch;
 * 4. a run that died after the row (1 finds the row, the batch does not name it yet) rebuilds the
 *    file from the row's id and creation time, checks the sha256 is the recorded one, and finishes
 *    the payouts with the same references.
 * Money does not move here: the holds placed at batching stay pending until finance confirms the
 * file (files/confirm.ts) or the bank rejects it (returns/).
 * @module
 */
import { payoutFileKeys } from '../../../r2/keys'
import { audit, type AuditContext } from '../../compliance/audit'
import { log } from '../../edge/logger'
import { ProblemError } from '../../edge/problem'
import { sha256Hex, utf8 } from '../../lib/encoding'
import { newId } from '../../lib/ids'
import { failPayout, refreshBatchState, transitionPayout } from '../lifecycle'
import { openMethod } from '../methods/sealed'
import type { AchMethod, CheckMethod, SepaMethod, WireMethod } from '../methods/methods'
import { isFileRail, type FileRail } from '../rails'
import type { z } from 'zod'
import { accountsFor, bankAccounts } from './bank-accounts'
import { buildCheckRegister, buildNachaFile, buildSepaFile, buildWireRegister, RAIL_METHOD, type BuiltFile, type FilePayout } from './build'
import { NachaWriteError } from './nacha/writer'
import { Pain001InputError } from './sepa/writer'

export interface WrittenFile {
  fileId: string
  format: string
  r2Key: string
  entryCount: number
  totalMinor: number
}

export interface PayoutFileRow {
  id: string
  batch_id: string
  format: 'nacha' | 'pain.001.001.09' | 'wire_csv' | 'check_csv'
  r2_key: string
  sha256_hex: string
  byte_length: number
  entry_count: number
  total_minor: number
  created_at_ms: number
}

interface BatchRow {
  id: string
  rail: string
  currency: string
  state: string
  external_ref: string | null
}

interface PayoutWithMethod {
  id: string
  creator_id: string
  currency: string
  amount_minor: number
  net_minor: number
  state: string
  method_id: string
  details_sealed: string
}

const written = (f: PayoutFileRow): WrittenFile => ({ fileId: f.id, format: f.format, r2Key: f.r2_key, entryCount: f.entry_count, totalMinor: f.total_minor })

export async function fileOfBatch(env: Env, batchId: string): Promise<PayoutFileRow | null> {
  return env.DB.prepare('SELECT * FROM payout_files WHERE batch_id = ?').bind(batchId).first<PayoutFileRow>()
}

export async function writeBatchFile(env: Env, ctx: AuditContext, batchId: string, nowMs = Date.now()): Promise<WrittenFile> {
  const batch = await env.DB.prepare('SELECT id, rail, currency, state, external_ref FROM payout_batches WHERE id = ?').bind(batchId).first<BatchRow>()
  if (!batch) throw new ProblemError('NOT_FOUND', { detail: `no payout batch ${batchId}` })
  if (!isFileRail(batch.rail as never)) throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is paid on ${batch.rail}, not a file rail` })
  const rail = batch.rail as FileRail

  const existing = await fileOfBatch(env, batchId)
  if (existing) {
    if (batch.external_ref === existing.id) return written(existing)
    return finish(env, ctx, batch, rail, existing, nowMs, false)
  }
  if (!['approved', 'submitted'].includes(batch.state)) throw new ProblemError('CONFLICT', { detail: `batch ${batchId} is ${batch.state}: only an approved batch gets its bank file` })

  const fileId = newId('payoutFile', nowMs)
  const payable = await payablePayouts(env, ctx, batch, rail, ['pending', 'queued'], nowMs)
  let built: BuiltFile | null = null
  let payouts = payable
  // a payout the format refuses (a name outside the SEPA set, ...) is failed and the file rebuilt without it
  for (let attempt = 0; attempt < 3 && payouts.length > 0 && built === null; attempt++) {
    const refused = new Map<string, string>()
    try {
      built = await buildFor(env, rail, payouts, fileId, nowMs)
    } catch (err) {
      for (const [index, message] of refusedEntries(err)) {
        const p = payouts[index]
        if (p) refused.set(p.id, message)
      }
      if (refused.size === 0) throw err
    }
    for (const [id, message] of refused) await failPayout(env, ctx, id, { code: 'file_format_refused', reason: message }, nowMs)
    payouts = payouts.filter((p) => !refused.has(p.id))
  }
  if (built === null) {
    // nothing left to pay: the batch ends failed, every hold voided
    await env.DB.prepare(`UPDATE payout_batches SET state = 'submitted', submitted_at_ms = COALESCE(submitted_at_ms, ?), updated_at_ms = ? WHERE id = ? AND state IN ('approved', 'submitted')`).bind(nowMs, nowMs, batchId).run()
    await refreshBatchState(env, batchId, nowMs)
    throw new ProblemError('CONFLICT', { detail: `no payout of batch ${batchId} could be written to a ${rail} file; each was failed with its reason` })
  }

  const bytes = utf8(built.text)
  const sha = sha256Hex(bytes)
  const r2Key = payoutFileKeys.file(nowMs, fileId, built.extension)
  await env.EXPORTS.put(r2Key, bytes, { sha256: sha, httpMetadata: { contentType: built.contentType }, customMetadata: { batchId, fileId, format: built.format } })
  const inserted = await env.DB.prepare(
    `INSERT INTO payout_files (id, batch_id, format, r2_key, sha256_hex, byte_length, entry_count, total_minor, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING`,
  )
    .bind(fileId, batchId, built.format, r2Key, sha, bytes.byteLength, built.entryCount, built.totalMinor, nowMs)
    .run()
  const row = (await fileOfBatch(env, batchId))!
  if (inserted.meta.changes !== 1) {
    // another writer recorded its file first: ours is never referenced
    await env.EXPORTS.delete(r2Key)
    return finish(env, ctx, batch, rail, row, nowMs, false)
  }
  return finish(env, ctx, batch, rail, row, nowMs, true, built)
}

/** Payouts -> submitted with their references, batch -> submitted naming the file, audit once. */
async function finish(env: Env, ctx: AuditContext, batch: BatchRow, rail: FileRail, file: PayoutFileRow, nowMs: number, fresh: boolean, built?: BuiltFile): Promise<WrittenFile> {
  let refs = built?.refs
  if (!refs) {
    // rebuild exactly the recorded file (same id and time, payouts not yet moved or moved by the run that died)
    const payouts = await payablePayouts(env, ctx, batch, rail, ['pending', 'queued', 'submitted'], nowMs, false)
    const again = await buildFor(env, rail, payouts, file.id, file.created_at_ms)
    if (sha256Hex(utf8(again.text)) !== file.sha256_hex) {
      log('error', 'info', 'payout_file_rebuild_mismatch', { file_id: file.id, batch_id: batch.id })
      throw new ProblemError('CONFLICT', { detail: `file ${file.id} of batch ${batch.id} was recorded but its payouts changed since; an operator must look` })
    }
    refs = again.refs
  }
  for (const [payoutId, ref] of refs) {
    await transitionPayout(env, payoutId, ['pending', 'queued'], 'submitted', { processor_ref: ref }, nowMs)
  }
  const moved = await env.DB.prepare(
    `UPDATE payout_batches SET state = 'submitted', external_ref = ?, submitted_at_ms = COALESCE(submitted_at_ms, ?), updated_at_ms = ? WHERE id = ? AND state IN ('approved', 'submitted') AND (external_ref IS NULL OR external_ref = ?)`,
  )
    .bind(file.id, nowMs, nowMs, batch.id, file.id)
    .run()
  if (fresh || moved.meta.changes === 1) {
    await audit(ctx, 'payouts.file.write', `payout_file:${file.id}`, {
      batch_id: batch.id,
      rail,
      format: file.format,
      currency: batch.currency,
      sha256: file.sha256_hex,
      byte_length: file.byte_length,
      entry_count: file.entry_count,
      total_minor: file.total_minor,
      sandbox_accounts: bankAccounts(env).sandbox.includes(rail),
    })
  }
  return written(file)
}

/**
 * The batch's payouts in `states` with their methods opened. With `failUnpayable`, a payout whose
 * method is not of the rail's type or currency is failed (its hold voided) and left out.
 */
async function payablePayouts(env: Env, ctx: AuditContext, batch: BatchRow, rail: FileRail, states: string[], nowMs: number, failUnpayable = true): Promise<FilePayout[]> {
  const { results } = await env.DB.prepare(
    `SELECT p.id, p.creator_id, p.currency, p.amount_minor, p.net_minor, p.state, p.method_id, m.details_sealed
       FROM payouts p JOIN payout_methods m ON m.id = p.method_id
      WHERE p.batch_id = ? AND p.state IN (${states.map(() => '?').join(', ')}) ORDER BY p.id`,
  )
    .bind(batch.id, ...states)
    .all<PayoutWithMethod>()
  const want = RAIL_METHOD[rail]
  const out: FilePayout[] = []
  for (const p of results) {
    let problem: string | null = null
    let method: FilePayout['method'] | null = null
    try {
      method = await openMethod(env, p.method_id, p.details_sealed)
    } catch (err) {
      problem = `its payout method ${p.method_id} cannot be opened: ${(err as Error).message}`
    }
    if (method && method.type !== want.type) problem = `its method is ${method.type}, the ${rail} file pays ${want.type}`
    else if (want.currency && p.currency !== want.currency) problem = `${rail} files pay ${want.currency}, the payout is ${p.currency}`
    else if (p.currency !== batch.currency) problem = `the payout is ${p.currency}, its batch ${batch.currency}`
    if (problem || !method) {
      if (!failUnpayable) throw new ProblemError('CONFLICT', { detail: `payout ${p.id}: ${problem}` })
      await failPayout(env, ctx, p.id, { code: 'method_unusable', reason: problem ?? 'no method' }, nowMs)
      continue
    }
    out.push({ id: p.id, creatorId: p.creator_id, currency: p.currency, amountMinor: p.amount_minor, netMinor: p.net_minor, method })
  }
  return out
}

async function buildFor(env: Env, rail: FileRail, payouts: FilePayout[], fileId: string, createdAtMs: number): Promise<BuiltFile> {
  const context = { fileId, createdAtMs }
  switch (rail) {
    case 'nacha': {
      const day = Math.floor(createdAtMs / 86_400_000) * 86_400_000
      const earlier = await env.DB.prepare(
        `SELECT COALESCE(SUM(entry_count), 0) AS entries, COALESCE(SUM(created_at_ms >= ? AND created_at_ms < ?), 0) AS today FROM payout_files WHERE format = 'nacha' AND id < ?`,
      )
        .bind(day, day + 86_400_000, fileId)
        .first<{ entries: number; today: number }>()
      return buildNachaFile(accountsFor(env, 'nacha'), payouts as (FilePayout & { method: z.infer<typeof AchMethod> })[], { ...context, dailyIndex: earlier?.today ?? 0, traceBase: earlier?.entries ?? 0 })
    }
    case 'sepa':
      return buildSepaFile(accountsFor(env, 'sepa'), payouts as (FilePayout & { method: z.infer<typeof SepaMethod> })[], context)
    case 'wire':
      return buildWireRegister(accountsFor(env, 'wire'), payouts as (FilePayout & { method: z.infer<typeof WireMethod> })[], context)
    case 'check':
      return buildCheckRegister(accountsFor(env, 'check'), payouts as (FilePayout & { method: z.infer<typeof CheckMethod> })[], context)
  }
}

/**
 * Which payouts (by index in the build's input order) a format refused, from the writer's issue
 * paths: NACHA `batches.b.entries.e...`, pain.001 `instructions.0.payments.p...`. Both builders keep
 * payout-id order (NACHA PPD before CCD), so the index is mapped back through the same order.
 */
function refusedEntries(err: unknown): Array<[number, string]> {
  if (err instanceof Pain001InputError) {
    return err.issues.flatMap((i) => {
      const m = /^instructions\.0\.payments\.(\d+)\./.exec(i.path)
      return m ? [[Number(m[1]), `pain.001 refused ${i.path.split('.').slice(4).join('.')}: ${i.message}`] as [number, string]] : []
    })
  }
  if (err instanceof NachaWriteError) {
    // NACHA entries come from the validated ACH method (ASCII name of 22, routing checked), so a
    // refusal here is file-wide (an overflowing total) rather than one payout's
    return []
  }
  return []
}
