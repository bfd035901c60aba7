// HubVault throughput: encrypt and decrypt of a 5 MB document through the vault's envelope (new
// data key + wrap under the KEK + seal; unwrap + open) against raw WebCrypto AES-256-GCM on the same
// buffer, in the same workerd, in the same run (issue acceptance). Driven through the dev-only
// endpoint /__bench/vault/* (workers/vault/bench-route.ts): each request runs N operations inside
// the Worker, so the figure is crypto throughput plus one small HTTP exchange per N x 5 MB, and the
// same for both sides. Envelope and raw are alternated request by request so drift hits both.
// MB = 10^6 bytes. Called from bench/run.mjs; `node bench/vault.mjs` runs it alone against its own
// wrangler dev.
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { getTimedJson as get, standalone, table } from './measure.mjs'

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')


/**
 * Prints the table and verdict; `say` writes a line. Returns { encrypt, decrypt } ratios.
 * @param {number} port wrangler dev port
 */
export async function vaultBenchmarks(port, { say = (l = '') => process.stdout.write(`${l}\n`), rounds = 40, perRequest = 4 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const lanes = ['envelope/encrypt', 'raw/encrypt', 'envelope/decrypt', 'raw/decrypt', 'raw/encrypt-framed']
  const samples = Object.fromEntries(lanes.map((l) => [l, []]))
  try {
    say(`\nvault: ${perRequest} operations on one 5 MB buffer per request, ${rounds} requests per lane, lanes in a new random order each round; median of per-request MB/s`)
    // warm-up: fixture built, code paths hot
    for (let i = 0; i < 3; i++) for (const lane of lanes) await get(port, agent, `/__bench/vault/${lane}?n=1`)
    for (let round = 0; round < rounds; round++) {
      // a fixed order would hand the garbage of one lane's buffers to the same next lane every time
      const order = [...lanes].sort(() => Math.random() - 0.5)
      for (const lane of order) {
        const r = await get(port, agent, `/__bench/vault/${lane}?n=${perRequest}`)
        if (r.ok !== r.n) throw new Error(`${lane}: ${r.ok}/${r.n} operations checked out`)
        samples[lane].push(r.bytes / 1e6 / (r.ns / 1e9))
      }
    }
  } finally {
    agent.destroy()
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const mbps = (lane) => median(samples[lane])
  const msPerDoc = (lane) => 5 / mbps(lane) * 1000
  const ratio = { encrypt: mbps('envelope/encrypt') / mbps('raw/encrypt'), decrypt: mbps('envelope/decrypt') / mbps('raw/decrypt') }
  say(
    table([
      ['operation', 'envelope MB/s', 'raw AES-GCM MB/s', 'envelope ÷ raw', 'envelope ms/doc', 'raw ms/doc'],
      ...['encrypt', 'decrypt'].map((op) => [op, fmt(mbps(`envelope/${op}`), 1), fmt(mbps(`raw/${op}`), 1), fmt(ratio[op], 3), fmt(msPerDoc(`envelope/${op}`), 2), fmt(msPerDoc(`raw/${op}`), 2)]),
    ]),
  )
  say(`raw encrypt + one copy into a header-framed buffer (what sealObject adds besides the key wrap): ${fmt(mbps('raw/encrypt-framed'), 1)} MB/s, ${fmt(mbps('raw/encrypt-framed') / mbps('raw/encrypt'), 3)}x raw`)
  say('envelope encrypt = new data key + wrap (AES-GCM under the KEK) + seal; decrypt = unwrap + open; both authenticate the record context')
  // the issue sets no threshold: the figures and ratios are the result
  say(`vault envelope: encrypt ${fmt(ratio.encrypt, 3)}x, decrypt ${fmt(ratio.decrypt, 3)}x raw AES-256-GCM throughput on a 5 MB document`)
  return ratio
}

// standalone: its own wrangler dev, like bench/run.mjs
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await standalone('vault', (port) => vaultBenchmarks(port))
