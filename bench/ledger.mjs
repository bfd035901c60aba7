// Ledger throughput on ONE CreatorLedger object, against a bare Durable Object SQL insert of the
// same row count on the same object in the same run (issue 4 acceptance: >= 20,000 postings/s
// batched). Driven through the dev-only endpoint /__bench/ledger/* (workers/ledger/bench-route.ts),
// which builds the operations inside the Worker and makes one RPC per request:
//   single  one `sale` per request (4 postings: processor fee, platform fee, reserve, creator share),
//           one request at a time, then 8 in flight
//   batch   one `batch` of N sales per request (N = 100 and 1000)
//   bare    the same number of rows per request as the ledger path next to it, bare INSERTs in one
//           transaction: no idempotency, no checks, no side tables, no projection
// Each figure is rows (postings) per second of wall time seen by the client, ledger and bare
// alternated round by round so drift hits both. Also printed: the object-side time (RPC only).
// Called from bench/run.mjs; `node bench/ledger.mjs` runs it alone against its own wrangler dev.
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { getTimedJson as get, standalone, table } from './measure.mjs'

export const LEDGER_TARGET_POSTINGS_PER_S = 20_000

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')


/** `requests` requests of `path`, `inFlight` at a time; returns rows/s by wall clock and by object time. */
async function drive(port, path, { requests, inFlight = 1, expectOk }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight })
  let postings = 0
  let objectMs = 0
  let next = 0
  const started = process.hrtime.bigint()
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < requests) {
          next++
          const r = await get(port, agent, path)
          if (expectOk !== undefined && r.ok !== expectOk) throw new Error(`${path}: ${r.ok}/${expectOk} operations succeeded`)
          postings += r.postings
          objectMs += r.ms
        }
      }),
    )
  } finally {
    agent.destroy()
  }
  const wallS = Number(process.hrtime.bigint() - started) / 1e9
  return { postings, wallS, perS: postings / wallS, objectPerS: objectMs > 0 ? postings / (objectMs / 1000) : NaN }
}

/**
 * Prints the ledger table and verdict; `say` writes a line. Returns the batched figure.
 * @param {number} port wrangler dev port
 */
export async function ledgerBenchmarks(port, { say = (l = '') => process.stdout.write(`${l}\n`), rounds = 2 } = {}) {
  const creator = `bench_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
  const q = (path, extra = '') => `/__bench/ledger/${path}?creator=${creator}${extra}`
  say(`\nledger: one CreatorLedger object (creator ${creator}), ${rounds} rounds, ledger and bare alternated`)

  // warm-up: object created, code paths hot, SQLite pages cached
  await drive(port, q('batch', '&ops=200'), { requests: 3 })
  await drive(port, q('bare', '&rows=800'), { requests: 3 })
  await drive(port, q('sale'), { requests: 50 })

  const modes = [
    { name: 'single, 1 in flight', ledger: q('sale'), bare: q('bare', '&rows=4'), requests: 300, inFlight: 1, ops: 1 },
    { name: 'single, 8 in flight', ledger: q('sale'), bare: q('bare', '&rows=4'), requests: 600, inFlight: 8, ops: 1 },
    { name: 'batch of 100', ledger: q('batch', '&ops=100'), bare: q('bare', '&rows=400'), requests: 30, inFlight: 1, ops: 100 },
    { name: 'batch of 1000', ledger: q('batch', '&ops=1000'), bare: q('bare', '&rows=4000'), requests: 8, inFlight: 1, ops: 1000 },
  ]
  const results = modes.map(() => ({ ledger: [], bare: [] }))
  for (let round = 0; round < rounds; round++) {
    for (const [i, m] of modes.entries()) {
      results[i].ledger.push(await drive(port, m.ledger, { requests: m.requests, inFlight: m.inFlight, expectOk: m.ops }))
      results[i].bare.push(await drive(port, m.bare, { requests: m.requests, inFlight: m.inFlight }))
    }
  }
  const sum = (runs, key) => runs.reduce((s, r) => s + r[key], 0)
  const rate = (runs) => sum(runs, 'postings') / sum(runs, 'wallS')
  const mean = (runs, key) => runs.reduce((s, r) => s + r[key], 0) / runs.length
  const rows = modes.map((m, i) => {
    const l = results[i].ledger
    const b = results[i].bare
    return { name: m.name, ledger: rate(l), bare: rate(b), ledgerObj: mean(l, 'objectPerS'), bareObj: mean(b, 'objectPerS'), ops: (rate(l) / 4) | 0 }
  })
  say(
    table([
      ['mode', 'ledger postings/s', 'ops/s', 'bare rows/s', 'ledger/bare', 'ledger (RPC time) /s', 'bare (RPC time) /s'],
      ...rows.map((r) => [r.name, fmt(r.ledger), fmt(r.ops), fmt(r.bare), fmt(r.ledger / r.bare, 3), fmt(r.ledgerObj), fmt(r.bareObj)]),
    ]),
  )
  say('postings = transfer rows (a sale is 4); ledger work per sale: idempotency lookup + record, payment row, 4 transfers, balance updates, invariant check, D1 projection')
  const verify = await get(port, new http.Agent(), q('verify'))
  say(`verify after the run: ${verify.ok ? 'ok' : `FAILED ${JSON.stringify(verify.problems)}`} (${verify.transfers} transfers on the object)`)
  const batched = Math.max(...rows.filter((r) => r.name.startsWith('batch')).map((r) => r.ledger))
  say(`${batched >= LEDGER_TARGET_POSTINGS_PER_S ? 'PASS' : 'FAIL'}: ledger ${fmt(batched)} postings/s batched on one object (target >= ${LEDGER_TARGET_POSTINGS_PER_S})`)
  return batched
}

// standalone: its own wrangler dev, like bench/run.mjs
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await standalone('ledger', (port) => ledgerBenchmarks(port))
