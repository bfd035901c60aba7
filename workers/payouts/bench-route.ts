/**
 * Dev-only bench endpoint for bench/payouts.mjs, dispatched from workers/index.ts before the edge
 * app and never outside dev (the index refuses it in production; this handler refuses it again
 * unless ENVIRONMENT is dev or test). A payout run over N seeded creators, stage by stage, with the
 * run's own functions (runs/run.ts, eligibility/, files/build.ts):
 *
 * - GET /__bench/payouts/reset                      deletes every bench row (ids `..._BENCH...`)
 * - GET /__bench/payouts/seed?from=I&count=C        seeds creators I..I+C-1: KYC (2% none, 2%
 *   expired), 1% compliance holds, one sealed method each (40% ACH/nacha USD, 25% SEPA EUR, 20%
 *   Paxum USD, 15% Payoneer USD; 0.5% cooling off), rules (SEPA weekly Tuesday EUR, 10% threshold,
 *   10% weekly Wednesday = not due, the rest the default Tuesday), and an available balance as a
 *   `ledger_balances` projection row (1% below the rail minimum)
 * - GET /__bench/payouts/baseline                   the same pages of creator rows read bare
 *   (`SELECT id, brand_id, handle, created_at_ms`, 5000 a page, id order) plus a JSON pass over
 *   them: what any per-creator job pays before doing anything
 * - GET /__bench/payouts/run?sample=S               one run: evaluate (facts read set-based +
 *   rules + eligibility), persist (payout rows + refusals), ledger holds for a SAMPLE of S payouts
 *   (their ledgers funded first, untimed) and batching
 * - GET /__bench/payouts/files?run_id=R&index=I     the file of the run's I-th nacha/sepa batch:
 *   methods opened from their sealed details, NACHA / pain.001 written by files/build.ts
 *
 * Holds: each hold is one RPC to the creator's own CreatorLedger Durable Object, so N holds are N
 * objects; the bench places S real holds and reports the per-hold time and the extrapolation, and
 * marks the other payouts `hold_id = 'bench:unheld'` (a value no ledger issues) so the batching and
 * file stages run over all N. Answers `{ ms: {...}, counts: {...} }`; ms measured around each
 * stage inside the Worker (the Workers clock advances on I/O, which every stage does).
 * @module
 */
import { Hono } from 'hono'
import { ledgerFor } from '../ledger/stub'
import { factPages } from './eligibility/facts'
import { recordRefusals } from './eligibility/refusals'
import { feeSchedules } from './fees/schedule'
import { accountsFor } from './files/bank-accounts'
import { buildNachaFile, buildSepaFile, type FilePayout } from './files/build'
import { placeHold } from './lifecycle'
import { parsePayoutMethod, type PayoutMethod } from './methods/methods'
import { openMethod, sealMethod } from './methods/sealed'
import { railOf } from './rails'
import { evaluatePage, formBatches, insertPayouts } from './runs/run'
import type { AchMethod, SepaMethod } from './methods/methods'
import type { z } from 'zod'

const BRAND_ID = 'brd_01JFANZ0000000000000000001'
const RUN_DATE = '2026-12-01' // a Tuesday: the default rule is due
/** ids carry a tag per benchmark size, so each size's ledger sample lands on fresh Durable Objects */
const pad = (tag: number, i: number) => `${tag % 10}${String(i).padStart(20, '0')}`
export const benchCreatorId = (tag: number, i: number) => `crt_BENCH${pad(tag, i)}`

function parsed(raw: Record<string, unknown>): PayoutMethod {
  const r = parsePayoutMethod(raw)
  if (!r.ok) throw new Error(`bench method does not validate: ${JSON.stringify(r.errors)}`)
  return r.method
}

const TEMPLATES = {
  ach: parsed({ type: 'ach', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking', accountHolderName: 'Bench Creator' }),
  sepa: parsed({ type: 'sepa', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', name: 'Bench Creator', address: { streetName: 'Unter den Linden', buildingNumber: '77', postCode: '10117', townName: 'Berlin', country: 'DE' } }),
  paxum: parsed({ type: 'paxum', email: 'bench@example.com' }),
  payoneer: parsed({ type: 'payoneer', payeeId: 'bench-payee' }),
}

function typeOf(i: number): keyof typeof TEMPLATES {
  const k = i % 20
  return k < 8 ? 'ach' : k < 13 ? 'sepa' : k < 17 ? 'paxum' : 'payoneer'
}

export const benchPayouts = new Hono<{ Bindings: Env }>()

benchPayouts.use('*', async (c, next) => {
  if (c.env.ENVIRONMENT !== 'dev' && c.env.ENVIRONMENT !== 'test') return c.text('not found', 404)
  await next()
})

benchPayouts.get('/__bench/payouts/reset', async (c) => {
  const db = c.env.DB
  const started = Date.now()
  await db.batch([
    db.prepare(`DELETE FROM payout_batches WHERE run_id IN (SELECT id FROM payout_runs WHERE started_by = 'bench')`),
    db.prepare(`DELETE FROM payouts WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM payout_refusals WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM payout_runs WHERE started_by = 'bench'`),
    db.prepare(`DELETE FROM payout_rules WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM payout_methods WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM payout_compliance_holds WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM ledger_balances WHERE creator_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM kyc_verifications WHERE subject_id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
    db.prepare(`DELETE FROM creators WHERE id LIKE 'crt\\_BENCH%' ESCAPE '\\'`),
  ])
  return c.json({ ok: 1, ms: Date.now() - started })
})

benchPayouts.get('/__bench/payouts/seed', async (c) => {
  const url = new URL(c.req.url)
  const from = Math.max(0, Number(url.searchParams.get('from') ?? 0) | 0)
  const count = Math.min(Math.max(Number(url.searchParams.get('count') ?? 1000) | 0, 1), 20_000)
  const tag = Math.max(0, Number(url.searchParams.get('tag') ?? 0) | 0)
  const db = c.env.DB
  const now = Date.now()
  const creators: unknown[][] = []
  const kyc: unknown[][] = []
  const holds: unknown[][] = []
  const methods: unknown[][] = []
  const rules: unknown[][] = []
  const balances: unknown[][] = []
  for (let i = from; i < from + count; i++) {
    const id = benchCreatorId(tag, i)
    creators.push([id, `bench${i}`])
    if (i % 50 !== 0) kyc.push([`kyc_BENCH${pad(tag, i)}`, id, i % 50 === 1 ? '2020-01-01' : '2031-01-01'])
    if (i % 100 === 2) holds.push([`poh_BENCH${pad(tag, i)}`, id])
    const type = typeOf(i)
    const methodId = `pm_BENCH${pad(tag, i)}`
    const currency = type === 'sepa' ? 'EUR' : 'USD'
    methods.push([methodId, id, type, railOf(type), currency, `${type} bench`, await sealMethod(c.env, methodId, TEMPLATES[type]), i % 200 === 3 ? now + 86_400_000 : now - 30 * 86_400_000])
    if (type === 'sepa') rules.push([id, 'weekly', 2, null, 'EUR'])
    else if (i % 10 === 4) rules.push([id, 'threshold', null, 5000, 'USD'])
    else if (i % 10 === 5) rules.push([id, 'weekly', 3, null, 'USD'])
    balances.push([id, currency, i % 97 === 0 ? 1500 : 2500 + ((i * 7919) % 400_000)])
  }
  const chunks = <T>(rows: T[], n = 1000) => Array.from({ length: Math.ceil(rows.length / n) }, (_, k) => JSON.stringify(rows.slice(k * n, k * n + n)))
  const v = (k: number) => `v->>'$[${k}]'`
  const statements: D1PreparedStatement[] = []
  for (const j of chunks(creators)) statements.push(db.prepare(`INSERT INTO creators (id, brand_id, handle, display_name, bio, created_at_ms) SELECT ${v(0)}, ?1, ${v(1)}, 'Bench Creator', '', ?2 FROM (SELECT value AS v FROM json_each(?3))`).bind(BRAND_ID, now, j))
  for (const j of chunks(kyc))
    statements.push(
      db
        .prepare(
          `INSERT INTO kyc_verifications (id, subject_type, subject_id, provider, provider_session_id, status, document_type, document_country, document_expires_on, verified_at_ms, created_at_ms, updated_at_ms)
           SELECT ${v(0)}, 'creator', ${v(1)}, 'sandbox', ${v(0)}, 'approved', 'PASSPORT', 'US', ${v(2)}, ?1, ?1, ?1 FROM (SELECT value AS v FROM json_each(?2))`,
        )
        .bind(now, j),
    )
  for (const j of chunks(holds)) statements.push(db.prepare(`INSERT INTO payout_compliance_holds (id, creator_id, reason, placed_by, placed_at_ms) SELECT ${v(0)}, ${v(1)}, 'bench', 'bench', ?1 FROM (SELECT value AS v FROM json_each(?2))`).bind(now, j))
  for (const j of chunks(methods, 500))
    statements.push(
      db
        .prepare(
          `INSERT INTO payout_methods (id, creator_id, type, rail, currency, summary, details_sealed, usable_from_ms, is_default, created_by, created_at_ms)
           SELECT ${v(0)}, ${v(1)}, ${v(2)}, ${v(3)}, ${v(4)}, ${v(5)}, ${v(6)}, ${v(7)}, 1, 'bench', ?1 FROM (SELECT value AS v FROM json_each(?2))`,
        )
        .bind(now, j),
    )
  for (const j of chunks(rules))
    statements.push(
      db.prepare(`INSERT INTO payout_rules (creator_id, kind, weekday, threshold_minor, currency, updated_by, updated_at_ms) SELECT ${v(0)}, ${v(1)}, ${v(2)}, ${v(3)}, ${v(4)}, 'bench', ?1 FROM (SELECT value AS v FROM json_each(?2))`).bind(now, j),
    )
  for (const j of chunks(balances))
    statements.push(
      db
        .prepare(`INSERT INTO ledger_balances (creator_id, currency, account, posted_minor, pending_minor, ledger_seq, updated_at_ms) SELECT ${v(0)}, ${v(1)}, 'creator_available', ${v(2)}, 0, 0, ?1 FROM (SELECT value AS v FROM json_each(?2))`).bind(now, j),
    )
  for (let k = 0; k < statements.length; k += 20) await db.batch(statements.slice(k, k + 20))
  return c.json({ seeded: count, ms: Date.now() - now })
})

/** The baseline: the run's pages of creators, read bare, plus one JSON pass over each page. */
benchPayouts.get('/__bench/payouts/baseline', async (c) => {
  const started = Date.now()
  let after = ''
  let rows = 0
  let bytes = 0
  for (;;) {
    const { results } = await c.env.DB.prepare('SELECT id, brand_id, handle, created_at_ms FROM creators WHERE id > ? ORDER BY id LIMIT 5000').bind(after).all<{ id: string }>()
    if (!results.length) break
    bytes += JSON.stringify(JSON.parse(JSON.stringify(results))).length
    rows += results.length
    after = results.at(-1)!.id
    if (results.length < 5000) break
  }
  return c.json({ rows, bytes, ms: Date.now() - started })
})

benchPayouts.get('/__bench/payouts/run', async (c) => {
  const url = new URL(c.req.url)
  const sample = Math.min(Math.max(Number(url.searchParams.get('sample') ?? 200) | 0, 0), 5000)
  const env = c.env
  const ctx = { env, actor: 'system:bench' }
  const ms = { facts: 0, decide: 0, persist: 0, holds: 0, batching: 0, files: 0, total: 0 }
  const refusalCodes: Record<string, number> = {}
  const counts = { evaluated: 0, payouts: 0, refusals: 0, not_due: 0, held: 0, batches: 0, nacha_files: 0, nacha_entries: 0, sepa_files: 0, sepa_entries: 0, file_bytes: 0 }
  /** per rail:currency: the rail's per-batch fee paid once per batch instead of once per payout */
  const saved: Record<string, { batches: number; payouts: number; per_batch_fixed_minor: number; saved_minor: number }> = {}
  const t0 = Date.now()
  const nowMs = t0
  const runId = `prn_BENCH${String(t0).padStart(21, '0')}`
  await env.DB.prepare(`INSERT INTO payout_runs (id, run_date, trigger, state, started_by, started_at_ms) VALUES (?, ?, 'operator', 'running', 'bench', ?)`).bind(runId, RUN_DATE, nowMs).run()
  const schedules = await feeSchedules(env)

  // 1. rules + eligibility: facts read set-based, a page at a time; decisions in memory
  let mark = Date.now()
  for await (const page of factPages(env.DB)) {
    const read = Date.now()
    ms.facts += read - mark
    const e = evaluatePage(page, runId, { runDate: RUN_DATE, nowMs, schedules, asked: false })
    const decided = Date.now()
    ms.decide += decided - read
    counts.evaluated += page.length
    counts.not_due += e.notDue
    counts.payouts += e.pays.length
    counts.refusals += e.refusals.length
    for (const r of e.refusals) refusalCodes[r.code] = (refusalCodes[r.code] ?? 0) + 1
    // 2. persist: the payout rows (pending, no hold yet) and the refusals
    await insertPayouts(env.DB, runId, e.pays, 'scheduled', nowMs)
    await recordRefusals(env.DB, runId, e.refusals, nowMs)
    mark = Date.now()
    ms.persist += mark - decided
  }

  // 3. ledger holds on a sample (ledgers funded first, untimed); the rest marked for batching
  const { results: toHold } = await env.DB.prepare(`SELECT id, creator_id, currency, amount_minor FROM payouts WHERE run_id = ? ORDER BY id LIMIT ?`).bind(runId, sample).all<{ id: string; creator_id: string; currency: string; amount_minor: number }>()
  const funding = Date.now()
  // 16 at a time: hundreds of new Durable Objects at once stalled local workerd under a 100k run
  let fundNext = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (fundNext < toHold.length) {
        const p = toHold[fundNext++]!
        await ledgerFor(env, p.creator_id).adjust({ opId: `bench:fund:${p.id}`, currency: p.currency, direction: 'credit', amountMinor: p.amount_minor, reason: 'bench funding', actor: 'system:bench' })
      }
    }),
  )
  mark = Date.now()
  const fundingMs = mark - funding
  const setHold = env.DB.prepare('UPDATE payouts SET hold_id = ? WHERE id = ?')
  const updates: D1PreparedStatement[] = []
  let next = 0
  let timedOut = false
  // a stuck ledger object must not hang the benchmark: the sample stops after 120 s and says so
  const deadline = new Promise<void>((resolve) => setTimeout(() => ((timedOut = true), (next = toHold.length), resolve()), 120_000))
  const sampled = Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < toHold.length) {
        const p = toHold[next++]!
        const r = await placeHold(env, { id: p.id, creatorId: p.creator_id, currency: p.currency, amountMinor: p.amount_minor }, nowMs)
        if (r.ok) (counts.held++, updates.push(setHold.bind(r.holdId, p.id)))
      }
    }),
  )
  await Promise.race([sampled, deadline])
  for (let k = 0; k < updates.length; k += 200) await env.DB.batch(updates.slice(k, k + 200))
  ms.holds = Date.now() - mark
  await env.DB.prepare(`UPDATE payouts SET hold_id = 'bench:unheld' WHERE run_id = ? AND hold_id IS NULL`).bind(runId).run()

  // 4. batching: draft batches by rail + currency, 1000 a batch
  mark = Date.now()
  const batches = await formBatches(env, ctx, runId, nowMs, { createdBy: 'bench' })
  ms.batching = Date.now() - mark
  counts.batches = batches.length
  for (const b of batches) {
    const fee = schedules.get(`${b.rail}:${b.currency}`)?.perBatchFixedMinor ?? 0
    if (!fee) continue
    const s = (saved[`${b.rail}:${b.currency}`] ??= { batches: 0, payouts: 0, per_batch_fixed_minor: fee, saved_minor: 0 })
    s.batches++
    s.payouts += b.count
    s.saved_minor = (s.payouts - s.batches) * fee
  }

  await env.DB.prepare(`UPDATE payout_runs SET state = 'done', evaluated = ?, created = ?, refused = ?, finished_at_ms = ? WHERE id = ?`).bind(counts.evaluated, counts.payouts, counts.refusals, Date.now(), runId).run()
  // the sample's ledger funding is set-up, not the run
  ms.total = Date.now() - t0 - fundingMs
  return c.json({ run_id: runId, sample, holds_timed_out: timedOut, ms, counts, refusal_codes: refusalCodes, saved })
})

/**
 * The file stage of a run, one batch's file per request (`index`-th nacha/sepa batch of the run), as
 * submitting a batch writes its file in production: one request writing all 55 files of a 100k run
 * after the run stalled local workerd (not understood; per batch it never did). The bench adds the
 * per-file times.
 */
benchPayouts.get('/__bench/payouts/files', async (c) => {
  const env = c.env
  const url = new URL(c.req.url)
  const runId = url.searchParams.get('run_id') ?? ''
  const index = Math.max(0, Number(url.searchParams.get('index') ?? 0) | 0)
  const traceBase = Math.max(0, Number(url.searchParams.get('trace_base') ?? 0) | 0)
  const nowMs = Date.now()
  const counts = { nacha_files: 0, nacha_entries: 0, sepa_files: 0, sepa_entries: 0, file_bytes: 0 }
  const { results: batches } = await env.DB.prepare(`SELECT id, rail FROM payout_batches WHERE run_id = ? AND rail IN ('nacha', 'sepa') ORDER BY id LIMIT 1 OFFSET ?`).bind(runId, index).all<{ id: string; rail: string }>()
  const mark = Date.now()
  const nacha = accountsFor(env, 'nacha')
  const sepa = accountsFor(env, 'sepa')
  for (const b of batches) {
    const { results } = await env.DB.prepare('SELECT p.id, p.creator_id, p.currency, p.amount_minor, p.net_minor, p.method_id, m.details_sealed FROM payouts p JOIN payout_methods m ON m.id = p.method_id WHERE p.batch_id = ? ORDER BY p.id')
      .bind(b.id)
      .all<{ id: string; creator_id: string; currency: string; amount_minor: number; net_minor: number; method_id: string; details_sealed: string }>()
    const payouts: FilePayout[] = []
    for (const r of results) payouts.push({ id: r.id, creatorId: r.creator_id, currency: r.currency, amountMinor: r.amount_minor, netMinor: r.net_minor, method: await openMethod(env, r.method_id, r.details_sealed) })
    const context = { fileId: `pof_${b.id.slice(4)}`, createdAtMs: nowMs }
    if (b.rail === 'nacha') {
      const file = buildNachaFile(nacha, payouts as (FilePayout & { method: z.infer<typeof AchMethod> })[], { ...context, dailyIndex: index % 36, traceBase })
      counts.nacha_files++
      counts.nacha_entries += file.entryCount
      counts.file_bytes += file.text.length
    } else {
      const file = buildSepaFile(sepa, payouts as (FilePayout & { method: z.infer<typeof SepaMethod> })[], context)
      counts.sepa_files++
      counts.sepa_entries += file.entryCount
      counts.file_bytes += file.text.length
    }
  }
  return c.json({ done: batches.length === 0, ms: { files: Date.now() - mark }, counts })
})
