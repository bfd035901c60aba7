// Payout run over 10,000 and 100,000 creators (issue 6 acceptance): rule evaluation + eligibility,
// batching and bank-file generation, per stage, with how each grows from 10k to 100k (ratio 10 =
// linear) and a same-run baseline: the same pages of creator rows read bare from D1 plus a JSON
// pass (what any per-creator job pays before it does anything). Driven through the dev-only
// endpoint /__bench/payouts/* (workers/payouts/bench-route.ts), which calls the run's own functions.
//
// Ledger holds: one CreatorLedger Durable Object per creator, so N holds are N objects; the bench
// places real holds for a sample (--hold-sample, default 200) of each run's payouts and prints the
// per-hold time and what N holds would take at that rate; the other payouts are marked unheld so
// batching and files still run over all of them. Called from bench/run.mjs;
// `node bench/payouts.mjs [--sizes 10000,100000] [--hold-sample 500]` runs it alone.
import http from 'node:http'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { getTimedJson as get, standalone, table } from './measure.mjs'

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')
const SEED_CHUNK = 10_000
const debug = process.env.PAYOUT_BENCH_DEBUG ? (m) => process.stderr.write(`${new Date().toISOString()} ${m}\n`) : () => {}

/** One size on the server at `port`: seed, baseline, run, baseline. */
async function measureSize(port, n, holdSample, say) {
  // no keep-alive: stages are timed inside the Worker, and a socket reused right after the long run
  // request was left waiting forever now and then (the server itself still answered new connections)
  const agent = new http.Agent({ keepAlive: false, maxSockets: 1 })
  try {
    debug('reset')
    await get(port, agent, '/__bench/payouts/reset')
    debug('seed')
    const seedStarted = Date.now()
    for (let from = 0; from < n; from += SEED_CHUNK) await get(port, agent, `/__bench/payouts/seed?from=${from}&count=${Math.min(SEED_CHUNK, n - from)}`)
    const seedS = (Date.now() - seedStarted) / 1000
    // the baseline before and after the run, the faster kept (the first read warms caches)
    debug('baseline')
    const base = [await get(port, agent, '/__bench/payouts/baseline')]
    debug('run')
    // a run that has not answered in 180 s fails this size instead of hanging `npm run bench`
    let timer
    const r = await Promise.race([
      get(port, agent, `/__bench/payouts/run?sample=${holdSample}`),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the ${n} run did not answer within 180 s`)), 180_000))),
    ]).finally(() => clearTimeout(timer))
    debug('files')
    // a pause (not timed) before the file stage: a request sent while the run's background work
    // (ledger projections of the sample, audit writes) was still going stalled local workerd at 100k
    await new Promise((r) => setTimeout(r, Number(process.env.PAYOUT_BENCH_SETTLE_MS ?? 5000)))
    // one request per batch file (as submitting a batch writes its file); times added
    r.ms.files = 0
    for (let index = 0, traceBase = 0; ; index++) {
      // after a 100k run this request was seen to wait forever from this client while the server
      // answered the same request from curl at once (not understood): fail the stage, not the bench
      let t
      const f = await Promise.race([
        get(port, agent, `/__bench/payouts/files?run_id=${r.run_id}&index=${index}&trace_base=${traceBase}`).catch(() => null),
        new Promise((resolve) => (t = setTimeout(() => resolve(null), 60_000))),
      ]).finally(() => clearTimeout(t))
      if (!f) {
        say(`  ${n.toLocaleString('en-US')}: the file stage did not answer within 60 s (batch ${index}); files n/a for this size`)
        r.ms.files = NaN
        break
      }
      if (f.done) break
      r.ms.files += f.ms.files
      traceBase += f.counts.nacha_entries
      for (const [k, v] of Object.entries(f.counts)) r.counts[k] += v
    }
    r.ms.total += r.ms.files
    base.push(await get(port, new http.Agent({ keepAlive: false }), '/__bench/payouts/baseline'))
    const b = base.reduce((x, y) => (y.ms < x.ms ? y : x))
    say(`  ${n.toLocaleString('en-US')} creators seeded in ${fmt(seedS, 1)} s; run: ${r.counts.payouts} payouts, ${r.counts.refusals} refusals, ${r.counts.not_due} not due, ${r.counts.batches} batches, ${r.counts.nacha_files} NACHA files (${r.counts.nacha_entries} entries), ${r.counts.sepa_files} pain.001 files (${r.counts.sepa_entries} payments), ${fmt(r.counts.file_bytes / 1e6, 1)} MB of files; holds placed ${r.counts.held}/${r.sample}${r.holds_timed_out ? ' (sample stopped after 120 s)' : ''}`)
    say(`  refusals by code: ${Object.entries(r.refusal_codes ?? {}).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`)
    say(`  ${n.toLocaleString('en-US')} stage ms: ${Object.entries(r.ms).map(([k, v]) => `${k} ${v}`).join(', ')}; baseline ${b.ms}`)
    return { n, base: b, run: r }
  } finally {
    agent.destroy()
  }
}

/**
 * Prints the table; returns the per-size results. Each size runs on its OWN fresh wrangler dev
 * (standalone()), same code, same machine: a second large run in a server that already ran one
 * stalled in local workerd (not understood yet, see the closing note), and a fresh server also
 * keeps the sizes from sharing warm caches unevenly.
 */
export async function payoutBenchmarks({ say = (l = '') => process.stdout.write(`${l}\n`), sizes = [10_000, 100_000], holdSample = 200 } = {}) {
  const results = []
  say(`\npayouts: a payout run over ${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} creators (stages timed inside the Worker; ledger holds on a sample of ${holdSample}; one fresh wrangler dev per size)`)
  for (const n of sizes) await standalone(`payouts-${n}`, async (port) => results.push(await measureSize(port, n, holdSample, say)))
  if (results.length !== sizes.length) throw new Error('a payout benchmark size failed (see above)')
  const stage = (r, key) => r.run.ms[key]
  const rows = [
    ['stage', ...results.map((r) => `${r.n / 1000}k ms`), ...(results.length > 1 ? ['growth (last/first)'] : []), ...results.map((r) => `${r.n / 1000}k x baseline`)],
  ]
  const line = (name, f) => rows.push([name, ...results.map((r) => fmt(f(r))), ...(results.length > 1 ? [fmt(f(results.at(-1)) / f(results[0]), 2)] : []), ...results.map((r) => fmt(f(r) / r.base.ms, 2))])
  line('rules + eligibility: facts read', (r) => stage(r, 'facts'))
  line('rules + eligibility: decide', (r) => stage(r, 'decide'))
  line('payout rows + refusals written', (r) => stage(r, 'persist'))
  line('batching (draft batches)', (r) => stage(r, 'batching'))
  line('files (NACHA + pain.001)', (r) => stage(r, 'files'))
  line(`ledger holds (sample)`, (r) => stage(r, 'holds'))
  line('run total (holds: sample only)', (r) => stage(r, 'total'))
  line('baseline: bare creator pages + JSON', (r) => r.base.ms)
  say(table(rows))
  for (const r of results) {
    const perHold = r.run.counts.held ? r.run.ms.holds / r.run.counts.held : NaN
    const fees = Object.entries(r.run.saved).map(([k, s]) => `${k} ${s.payouts} payouts in ${s.batches} batches at ${s.per_batch_fixed_minor}/batch: ${s.saved_minor} saved`).join('; ')
    say(`  ${r.n / 1000}k: ledger holds ${fmt(perHold, 2)} ms of wall time per hold at 16 in flight (sample of ${r.run.counts.held}, one CreatorLedger object each); all ${r.run.counts.payouts} would take ~${fmt((perHold * r.run.counts.payouts) / 1000, 1)} s at that rate`)
    say(`  ${r.n / 1000}k: per-batch fees (minor units) ${fees}`)
  }
  if (results.length > 1) {
    const f = results[0]
    const l = results.at(-1)
    const core = (r) => stage(r, 'facts') + stage(r, 'decide') + stage(r, 'persist') + stage(r, 'batching') + stage(r, 'files')
    say(`growth ${l.n / f.n}x creators: run without holds ${fmt(core(l) / core(f), 2)}x, baseline ${fmt(l.base.ms / f.base.ms, 2)}x (${l.n / f.n} = linear)`)
  }
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,100000' }, 'hold-sample': { type: 'string', default: '200' } } })
  await payoutBenchmarks({ sizes: values.sizes.split(',').map(Number), holdSample: Number(values['hold-sample']) })
}
