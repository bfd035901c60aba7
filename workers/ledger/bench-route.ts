/**
 * Dev-only bench endpoint for bench/ledger.mjs, dispatched from workers/index.ts before the edge app
 * and never outside dev (the index refuses it in production; this handler refuses it again unless
 * ENVIRONMENT is dev or test). It builds the operations in the Worker, so the figure is the
 * object's throughput plus one RPC, not the cost of shipping op bodies over HTTP:
 * - GET /__bench/ledger/sale?creator=ID            one `sale` RPC (4 postings)
 * - GET /__bench/ledger/batch?creator=ID&ops=N     one `batch` RPC of N sales (4N postings)
 * - GET /__bench/ledger/bare?creator=ID&rows=N     the baseline: N bare SQL inserts in one transaction on the same object
 * - GET /__bench/ledger/verify?creator=ID          the auditor's check after a run
 * Answers `{ postings, ok, ms }`; ms is measured around the RPC (the Workers clock moves on I/O).
 * @module
 */
import { Hono } from 'hono'
import { newId } from '../lib/ids'
import type { LedgerOp } from './model'
import { ledgerFor } from './stub'

const SPLIT = { platformFeeBps: 2000, reserveBps: 500, reserveDays: 90, pendingDays: 7 } as const

function saleOp(): LedgerOp & { kind: 'sale' } {
  const paymentId = newId('payment')
  return { kind: 'sale', opId: `bench:${paymentId}`, paymentId, currency: 'USD', grossMinor: 999, processorFeeMinor: 60, split: SPLIT }
}

function creatorOf(url: URL): string {
  const creator = url.searchParams.get('creator') ?? ''
  if (!/^bench_[A-Za-z0-9]{1,40}$/.test(creator)) throw new Error('creator must be bench_<alnum>')
  return creator
}

function count(url: URL, name: string): number {
  return Math.min(Math.max(Number(url.searchParams.get(name) ?? 1) | 0, 1), 5000)
}

export const benchLedger = new Hono<{ Bindings: Env }>()

benchLedger.use('*', async (c, next) => {
  if (c.env.ENVIRONMENT !== 'dev' && c.env.ENVIRONMENT !== 'test') return c.text('not found', 404)
  await next()
})

benchLedger.get('/__bench/ledger/sale', async (c) => {
  const ledger = ledgerFor(c.env, creatorOf(new URL(c.req.url)))
  const started = Date.now()
  const r = await ledger.sale(saleOp())
  const ms = Date.now() - started
  return c.json({ postings: r.ok ? r.transferIds.length : 0, ok: r.ok ? 1 : 0, ms })
})

benchLedger.get('/__bench/ledger/batch', async (c) => {
  const url = new URL(c.req.url)
  const ledger = ledgerFor(c.env, creatorOf(url))
  const ops = Array.from({ length: count(url, 'ops') }, saleOp)
  const started = Date.now()
  const { results } = await ledger.batch(ops)
  const ms = Date.now() - started
  let postings = 0
  let ok = 0
  for (const r of results) if (r.ok) ((postings += r.transferIds.length), ok++)
  return c.json({ postings, ok, ms })
})

benchLedger.get('/__bench/ledger/bare', async (c) => {
  const url = new URL(c.req.url)
  const ledger = ledgerFor(c.env, creatorOf(url))
  const rows = Math.min(Math.max(Number(url.searchParams.get('rows') ?? 1) | 0, 1), 20_000)
  const started = Date.now()
  const n = await ledger.benchBareInsert(rows)
  return c.json({ postings: n, ok: 1, ms: Date.now() - started })
})

benchLedger.get('/__bench/ledger/verify', async (c) => c.json(await ledgerFor(c.env, creatorOf(new URL(c.req.url))).verify()))
