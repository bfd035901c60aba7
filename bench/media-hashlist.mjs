// Hash-list lookup against 1,000,000 PDQ hashes: the HashIndex multi-index (media.md §1.1: 16 slots
// x 16 bits, 272 probes per query at d <= 31, then the full distance verified) against a linear
// scan over the same stored hashes of the same object, in the same run (issue 7 acceptance).
// Driven through the dev-only endpoint /__bench/media-hashlist/* (workers/media/hashlists/
// bench-route.ts): the Worker generates the entries (seeded, with planted near-duplicates of the
// queries at distances 0..39) and loads them into a fresh HashIndex instance with its real `add`
// RPC, then runs lookups with its real `match` and `scan` RPCs. Each request is timed by the client
// (the Workers clock does not move during CPU work); ms per lookup = request time / lookups in it.
// Recall: every planted entry within 31 bits must be found at its exact distance, nothing else
// reported. Called from bench/run.mjs; `node bench/media-hashlist.mjs [total]` runs it alone.
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { getTimedJson as get, standalone, table } from './measure.mjs'

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')
const QUERIES = 200 // BENCH_QUERIES in the bench route

/** GET `path`, body discarded, errors ignored (it only has to arrive). */
function poke(port, agent, path) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host: 'api.localhost' } }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', resolve)
    req.end()
  })
}

/**
 * Loads `total` hashes, then times multi-index and scan lookups. Returns the figures.
 * @param {number} port wrangler dev port
 */
export async function hashListBenchmarks(port, { say = (l = '') => process.stdout.write(`${l}\n`), total = 1_000_000, loadPerRequest = 131_072, mihLookups = QUERIES, scanLookups = 4 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const run = `r${Date.now().toString(36)}`
  const q = (path, extra = '') => `/__bench/media-hashlist/${path}?run=${run}&total=${total}${extra}`
  // Local wrangler dev (workerd 1.20260426) was seen to hold a long Durable Object request (a load
  // slice) for minutes with no CPU in use; in some runs a request that started another Durable
  // Object released it at once, in others not (cause not found). The poke (a fresh, empty HashIndex
  // asked for its stats every 2 s) costs one tiny object in the throwaway dev state; the load
  // figure may still include such stalls: the per-slice rates show them.
  const pokeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let poking = true
  const poker = (async () => {
    for (let n = 0; poking; n++) {
      await poke(port, pokeAgent, `/__bench/media-hashlist/stats?run=${run}-poke-${n}`)
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  })()
  try {
    say(`\nmedia hash lists: ${total.toLocaleString('en-US')} random PDQ hashes + ${QUERIES} planted near-duplicates (distance j % 40) in a fresh HashIndex; lookups at d <= 31`)
    let loadNs = 0
    for (let from = 0; from < total; from += loadPerRequest) {
      // a new connection per slice: a slice runs for many seconds, longer than idle keep-alive allows
      const once = new http.Agent({ keepAlive: false })
      const r = await get(port, once, q('load', `&from=${from}&count=${loadPerRequest}`)).finally(() => once.destroy())
      if (r.duplicates) throw new Error(`load ${from}: ${r.added} added, ${r.duplicates} duplicates in random data`)
      loadNs += r.ns
      say(`  loaded ${(from + r.count).toLocaleString('en-US')} (${fmt(r.count / (r.ns / 1e9))} hashes/s for this slice)`)
    }
    const stats = await get(port, agent, q('stats'))
    if (stats.pdq !== total) throw new Error(`index holds ${stats.pdq} PDQs, expected ${total}`)
    // warm-up: page cache and code paths hot for both sides
    await get(port, agent, q('lookup', '&mode=mih&from=0&n=5'))
    await get(port, agent, q('lookup', '&mode=scan&from=0&n=1'))
    const lane = async (mode, lookups, perRequest) => {
      let ns = 0
      const sum = { n: 0, candidates: 0, expected: 0, found: 0, falsePositives: 0 }
      for (let from = 0; from < lookups; from += perRequest) {
        const r = await get(port, agent, q('lookup', `&mode=${mode}&from=${from}&n=${Math.min(perRequest, lookups - from)}`))
        ns += r.ns
        for (const k of Object.keys(sum)) sum[k] += r[k]
      }
      return { ...sum, msPerLookup: ns / 1e6 / sum.n }
    }
    const mih = await lane('mih', mihLookups, 50)
    const scan = await lane('scan', scanLookups, 1)
    const ratio = scan.msPerLookup / mih.msPerLookup
    say(
      table([
        ['lookup (d <= 31)', 'lookups', 'ms/lookup', 'entries verified/lookup', 'planted found', 'false positives'],
        ['multi-index', mih.n, fmt(mih.msPerLookup, 3), fmt(mih.candidates / mih.n, 0), `${mih.found}/${mih.expected}`, mih.falsePositives],
        ['linear scan', scan.n, fmt(scan.msPerLookup, 1), fmt(scan.candidates / scan.n, 0), `${scan.found}/${scan.expected}`, scan.falsePositives],
      ]),
    )
    const recall = mih.expected ? mih.found / mih.expected : NaN
    say(`load: ${fmt(loadNs / 1e9, 1)} s for ${total.toLocaleString('en-US')} hashes (${fmt(total / (loadNs / 1e9))} hashes/s, batches of 32,768 per add RPC); index ${fmt(stats.databaseBytes / 2 ** 20, 0)} MiB, ${stats.slotRows.toLocaleString('en-US')} slot rows`)
    say(`media hash list: multi-index ${fmt(mih.msPerLookup, 3)} ms/lookup vs linear scan ${fmt(scan.msPerLookup, 1)} ms/lookup over ${total.toLocaleString('en-US')} hashes: ${fmt(ratio, 0)}x faster; recall on planted pairs ${fmt(recall * 100, 1)}%${mih.falsePositives ? `, ${mih.falsePositives} unexpected matches` : ''}`)
    return { total, loadS: loadNs / 1e9, mih, scan, ratio, recall, databaseBytes: stats.databaseBytes }
  } finally {
    poking = false
    await poker
    agent.destroy()
    pokeAgent.destroy()
  }
}

// standalone: its own wrangler dev, like bench/run.mjs
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const total = Number(process.argv[2] ?? 1_000_000)
  await standalone('media-hashlist', (port) => hashListBenchmarks(port, { total }))
}
