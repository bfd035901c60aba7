/**
 * Dev-only bench endpoint for bench/media-hashlist.mjs, dispatched from workers/index.ts before the
 * edge app and refused again here unless ENVIRONMENT is dev or test. Every run uses its own
 * HashIndex instance (`bench:<run>`), so the platform's `global` index is never touched.
 *
 * Data (deterministic, so any slice can be regenerated on its own): entry i of `total` is a random
 * 256-bit hash from a seeded mixer, except the planted ones: entry `j * stride + 7` is query j with
 * `j % 40` bits flipped (distances 0..39; those within 31 must be found, those beyond must not).
 * Queries are random hashes from another seed, ~128 bits from every other entry.
 * - GET /__bench/media-hashlist/load?run=R&total=T&from=F&count=C   add entries [F, F+C) (RPC batches of 32,768)
 * - GET /__bench/media-hashlist/lookup?run=R&total=T&mode=mih|scan&from=J&n=N   N lookups at d <= 31
 * - GET /__bench/media-hashlist/stats?run=R
 * The client times each request: the Workers clock does not move during CPU work.
 * @module
 */
import { Hono } from 'hono'
import type { HashIndex, IndexEntryInput } from '../../../durable-objects/hash-index'
import { bytesToHex } from './hamming'

export const BENCH_QUERIES = 200
export const BENCH_LIST = 'bench'
const PLANT_OFFSET = 7
const ENTRY_SEED = 0x9e3779b9
const QUERY_SEED = 0x85ebca6b
const RPC_BATCH = 32_768

/** murmur3's 32-bit finalizer: a cheap, well-mixed function of an integer. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function randomHash(index: number, seed: number): Uint8Array {
  const out = new Uint8Array(32)
  const view = new DataView(out.buffer)
  for (let w = 0; w < 8; w++) view.setUint32(w * 4, fmix32(fmix32(index * 8 + w) ^ seed))
  return out
}

export function plantedDistance(j: number): number {
  return j % 40
}

export function queryHash(j: number): string {
  return bytesToHex(randomHash(j, QUERY_SEED))
}

function stride(total: number): number {
  return Math.floor(total / BENCH_QUERIES)
}

/** Entry i of a run of `total` entries, as hex. */
export function entryHash(i: number, total: number): string {
  const s = stride(total)
  const j = Math.floor(i / s)
  if (s > PLANT_OFFSET && i % s === PLANT_OFFSET && j < BENCH_QUERIES) {
    const bytes = randomHash(j, QUERY_SEED)
    // distinct bit positions: 101 is odd, so k * 101 mod 256 never repeats for k < 256
    for (let k = 0; k < plantedDistance(j); k++) {
      const bit = (j * 37 + k * 101) % 256
      bytes[bit >> 3]! ^= 1 << (bit & 7)
    }
    return bytesToHex(bytes)
  }
  return bytesToHex(randomHash(i, ENTRY_SEED))
}

const int = (value: string | undefined, fallback: number, max: number) => {
  const n = Number(value ?? fallback)
  return Number.isInteger(n) && n >= 0 && n <= max ? n : fallback
}

const stubFor = (env: Env, run: string) => env.HASH_INDEX.get(env.HASH_INDEX.idFromName(`bench:${run}`)) as DurableObjectStub<HashIndex>

export const benchHashList = new Hono<{ Bindings: Env }>()

benchHashList.use('*', async (c, next) => {
  if (c.env.ENVIRONMENT !== 'dev' && c.env.ENVIRONMENT !== 'test') return c.text('not found', 404)
  if (!/^[A-Za-z0-9-]{1,40}$/.test(c.req.query('run') ?? '')) return c.text('run=<id> required', 400)
  await next()
})

benchHashList.get('/__bench/media-hashlist/load', async (c) => {
  const total = int(c.req.query('total'), 1_000_000, 5_000_000)
  const from = int(c.req.query('from'), 0, total)
  const count = Math.min(int(c.req.query('count'), 100_000, 1_000_000), total - from)
  const stub = stubFor(c.env, c.req.query('run')!)
  let added = 0
  let duplicates = 0
  for (let start = from; start < from + count; start += RPC_BATCH) {
    const entries: IndexEntryInput[] = []
    for (let i = start; i < Math.min(start + RPC_BATCH, from + count); i++) entries.push({ kind: 'pdq', hash: entryHash(i, total), ref: null })
    const r = await stub.add(BENCH_LIST, entries).catch((err: unknown) => ({ ok: false as const, code: String(err) }))
    if (!r.ok) return c.json({ error: r.code }, 500)
    added += r.added
    duplicates += r.duplicates
  }
  return c.json({ from, count, added, duplicates })
})

benchHashList.get('/__bench/media-hashlist/lookup', async (c) => {
  const total = int(c.req.query('total'), 1_000_000, 5_000_000)
  const mode = c.req.query('mode') === 'scan' ? 'scan' : 'match'
  const from = int(c.req.query('from'), 0, BENCH_QUERIES - 1)
  const n = Math.min(int(c.req.query('n'), 10, BENCH_QUERIES), BENCH_QUERIES - from)
  const stub = stubFor(c.env, c.req.query('run')!)
  let candidates = 0
  let expected = 0
  let found = 0
  let falsePositives = 0
  for (let j = from; j < from + n; j++) {
    const r = await stub[mode]({ pdq: [queryHash(j)] }, 31, [BENCH_LIST]).catch((err: unknown) => ({ ok: false as const, code: String(err) }))
    if (!r.ok) return c.json({ error: r.code }, 500)
    candidates += r.candidates
    const planted = entryHash(j * stride(total) + PLANT_OFFSET, total)
    const shouldMatch = plantedDistance(j) <= 31
    if (shouldMatch) expected++
    for (const m of r.matches) {
      if (m.entryHash === planted && shouldMatch && m.distance === plantedDistance(j)) found++
      else falsePositives++
    }
  }
  return c.json({ mode, n, candidates, expected, found, falsePositives })
})

benchHashList.get('/__bench/media-hashlist/stats', async (c) => {
  const stats = await stubFor(c.env, c.req.query('run')!).stats()
  return c.json(stats)
})
