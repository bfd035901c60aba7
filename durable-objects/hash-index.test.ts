import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import haystackText from '../../shared/data/pdq/hash-lists/haystack.txt?raw'
import needlesText from '../../shared/data/pdq/hash-lists/needles.txt?raw'
import expectedTsv from '../../shared/data/pdq/hash-lists/EXPECTED.tsv?raw'
import { bytesToHex, hexToBytes, pdqDistance, pdqWords, popcount32, probeKeys, probeRadius, slotKeys, wordsDistance } from '../workers/media/hashlists/hamming'
import { MAX_ADD_BATCH, type HashIndex, type IndexMatch } from './hash-index'

/** A fresh object per file run: R2 and Durable Objects persist across files and runs. */
const index = () => env.HASH_INDEX.get(env.HASH_INDEX.idFromName(`test:${crypto.randomUUID()}`)) as DurableObjectStub<HashIndex>
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean)
const needles = lines(needlesText)
const haystack = lines(haystackText)
/** d -> expected pairs, from EXPECTED.tsv (brute force published with the data) */
const expected = new Map(lines(expectedTsv).filter((l) => !l.startsWith('#') && /^\d/.test(l)).map((l) => l.split('\t').map(Number) as [number, number, number]).map(([d, pairs, withMatch]) => [d, { pairs, withMatch }]))

function flip(hex: string, bits: number[]): string {
  const bytes = hexToBytes(hex)
  for (const b of bits) bytes[b >> 3]! ^= 1 << (b & 7)
  return bytesToHex(bytes)
}

const words = (hexes: string[]) => hexes.map((h) => [h, pdqWords(hexToBytes(h))] as const)
const needleWords = words(needles)
const haystackWords = words(haystack)
/** The answer by definition: every needle against every haystack hash. */
function bruteForce(d: number): Set<string> {
  const pairs = new Set<string>()
  for (const [n, nw] of needleWords) for (const [h, hw] of haystackWords) if (wordsDistance(nw, hw) <= d) pairs.add(`${n}|${h}`)
  return pairs
}

async function pairsByIndex(stub: DurableObjectStub<HashIndex>, listId: string, d: number, method: 'match' | 'scan' = 'match') {
  const pairs = new Set<string>()
  let candidates = 0
  for (const n of needles) {
    const r = await stub[method]({ pdq: [n] }, d, [listId])
    if (!r.ok) throw new Error(r.code)
    candidates += r.candidates
    for (const m of r.matches as IndexMatch[]) pairs.add(`${m.queryHash}|${m.entryHash}`)
  }
  return { pairs, candidates }
}

describe('HashIndex', () => {
  it('finds exactly the brute-force needle/haystack pairs at d <= 0 and d <= 31 (EXPECTED.tsv: 50 and 250 pairs)', async () => {
    const stub = index()
    const added = await stub.add('hl_haystack', haystack.map((hash, i) => ({ kind: 'pdq' as const, hash, ref: `line-${i + 1}` })))
    expect(added).toEqual({ ok: true, added: 1350, duplicates: 0 })
    for (const d of [0, 31]) {
      const brute = bruteForce(d)
      expect(brute.size).toBe(expected.get(d)!.pairs)
      const { pairs, candidates } = await pairsByIndex(stub, 'hl_haystack', d)
      expect(pairs).toEqual(brute)
      expect(new Set([...pairs].map((p) => p.split('|')[0])).size).toBe(expected.get(d)!.withMatch)
      // the multi-index verifies far fewer entries than 100 needles x 1350 hashes
      expect(candidates).toBeLessThan(needles.length * haystack.length)
    }
    expect(bruteForce(31).size).toBe(250)
  })

  it('answers d <= 63 by scan with exactly the brute-force pairs (EXPECTED.tsv: 352), and scan agrees with the multi-index at 31', async () => {
    const stub = index()
    await stub.add('hl_haystack', haystack.map((hash) => ({ kind: 'pdq' as const, hash })))
    const wide = await pairsByIndex(stub, 'hl_haystack', 63)
    expect(wide.pairs).toEqual(bruteForce(63))
    expect(wide.pairs.size).toBe(expected.get(63)!.pairs)
    const r = await stub.match({ pdq: [needles[0]!] }, 63, ['hl_haystack'])
    expect(r.ok && r.method).toBe('scan')
    const viaScan = await pairsByIndex(stub, 'hl_haystack', 31, 'scan')
    expect(viaScan.pairs).toEqual(bruteForce(31))
    expect(viaScan.candidates).toBe(needles.length * haystack.length)
  })

  it('adds idempotently per list, removes, drops lists in steps and keeps lists apart', async () => {
    const stub = index()
    const pdq = bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
    const md5 = bytesToHex(crypto.getRandomValues(new Uint8Array(16)))
    expect(await stub.add('a', [{ kind: 'pdq', hash: pdq.toUpperCase(), ref: 'first' }, { kind: 'md5', hash: md5 }, { kind: 'pdq', hash: pdq, ref: 'again' }])).toEqual({ ok: true, added: 2, duplicates: 1 })
    expect(await stub.add('a', [{ kind: 'pdq', hash: pdq }])).toEqual({ ok: true, added: 0, duplicates: 1 })
    expect(await stub.add('b', [{ kind: 'pdq', hash: pdq, ref: 'in b' }])).toEqual({ ok: true, added: 1, duplicates: 0 })
    const both = await stub.match({ pdq: [flip(pdq, [0, 9, 200])], md5 }, 31, ['a', 'b'])
    expect(both.ok && both.matches).toEqual([
      { listId: 'a', kind: 'md5', entryHash: md5, queryHash: md5, distance: 0, ref: null },
      { listId: 'a', kind: 'pdq', entryHash: pdq, queryHash: flip(pdq, [0, 9, 200]), distance: 3, ref: 'first' },
      { listId: 'b', kind: 'pdq', entryHash: pdq, queryHash: flip(pdq, [0, 9, 200]), distance: 3, ref: 'in b' },
    ])
    const onlyB = await stub.match({ pdq: [pdq], md5 }, 31, ['b'])
    expect(onlyB.ok && onlyB.matches.map((m) => m.listId)).toEqual(['b'])
    expect(await stub.remove('a', [pdq, bytesToHex(crypto.getRandomValues(new Uint8Array(32)))])).toEqual({ ok: true, removed: 1, notFound: 1 })
    const afterRemove = await stub.match({ pdq: [pdq] }, 31, ['a', 'b'])
    expect(afterRemove.ok && afterRemove.matches.map((m) => m.listId)).toEqual(['b'])
    expect(await stub.listCounts()).toEqual([{ listId: 'a', pdq: 0, md5: 1 }, { listId: 'b', pdq: 1, md5: 0 }])
    // a list dropped in steps of 2
    const many = Array.from({ length: 5 }, () => ({ kind: 'pdq' as const, hash: bytesToHex(crypto.getRandomValues(new Uint8Array(32))) }))
    await stub.add('c', many)
    expect(await stub.dropList('c', 2)).toEqual({ ok: true, removed: 2, remaining: 3 })
    expect(await stub.dropList('c', 2)).toEqual({ ok: true, removed: 2, remaining: 1 })
    expect(await stub.dropList('c', 2)).toEqual({ ok: true, removed: 1, remaining: 0 })
    const gone = await stub.match({ pdq: many.map((m) => m.hash) }, 31, ['c'])
    expect(gone.ok && gone.matches).toEqual([])
    const stats = await stub.stats()
    expect(stats).toMatchObject({ entries: 2, pdq: 1, md5: 1, slotRows: 16 })
    // the slot table holds exactly 16 rows per PDQ left: removals left nothing behind
    const slotRows = await runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM pdq_slots').one().n)
    expect(slotRows).toBe(16)
  })

  it('merges small segments (one per add batch) and still finds every entry; removals leave no slot rows behind', async () => {
    const stub = index()
    const all: string[] = []
    for (let batch = 0; batch < 12; batch++) {
      const hashes = Array.from({ length: 3 }, () => bytesToHex(crypto.getRandomValues(new Uint8Array(32))))
      all.push(...hashes)
      expect(await stub.add('m', hashes.map((hash) => ({ kind: 'pdq' as const, hash })))).toMatchObject({ ok: true, added: 3 })
    }
    const segments = () => runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ seg: number; entries: number }>('SELECT seg, entries FROM segments ORDER BY seg').toArray())
    // 9 small segments were merged into one after the 9th batch; batches 10-12 made 3 more
    expect((await segments()).map((s) => s.entries)).toEqual([27, 3, 3, 3])
    for (const hash of all) {
      const r = await stub.match({ pdq: [flip(hash, [1, 100, 250])] }, 31, ['m'])
      expect(r.ok && r.matches.map((m) => [m.entryHash, m.distance])).toEqual([[hash, 3]])
    }
    expect(await stub.remove('m', all.slice(0, 28))).toMatchObject({ ok: true, removed: 28 })
    expect((await segments()).map((s) => s.entries)).toEqual([2, 3, 3])
    const slotRows = await runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM pdq_slots').one().n)
    expect(slotRows).toBe(8 * 16)
  })

  it('refuses bad input with a code instead of throwing across RPC', async () => {
    const stub = index()
    expect(await stub.add('a', [{ kind: 'pdq', hash: 'abc' }])).toEqual({ ok: false, code: 'INVALID_HASH', index: 0, value: 'abc' })
    expect(await stub.add('a', [{ kind: 'md5', hash: 'a'.repeat(64) }])).toMatchObject({ ok: false, code: 'INVALID_HASH', index: 0 })
    expect(await stub.add('bad list id!', [])).toEqual({ ok: false, code: 'INVALID_LIST_ID' })
    expect(await stub.add('a', Array.from({ length: MAX_ADD_BATCH + 1 }, () => ({ kind: 'md5' as const, hash: 'a'.repeat(32) })))).toEqual({ ok: false, code: 'BATCH_TOO_LARGE', max: MAX_ADD_BATCH })
    expect(await stub.match({ pdq: ['zz'] }, 31, ['a'])).toMatchObject({ ok: false, code: 'INVALID_HASH', index: 0 })
    expect(await stub.match({ pdq: [], md5: 'nope' }, 31, ['a'])).toMatchObject({ ok: false, code: 'INVALID_HASH', index: -1 })
    expect(await stub.match({ pdq: [] }, -1, ['a'])).toEqual({ ok: false, code: 'INVALID_DISTANCE' })
    expect(await stub.match({ pdq: Array(17).fill('a'.repeat(64)) }, 31, ['a'])).toEqual({ ok: false, code: 'TOO_MANY_QUERY_HASHES', max: 16 })
    expect(await stub.remove('a', ['123'])).toMatchObject({ ok: false, code: 'INVALID_HASH', index: 0 })
  })
})

describe('hamming', () => {
  it('counts differing bits on 256-bit hashes', () => {
    const a = needles[0]!
    expect(pdqDistance(a, a)).toBe(0)
    expect(pdqDistance(a, flip(a, [0, 1, 255, 128]))).toBe(4)
    expect(pdqDistance('0'.repeat(64), 'f'.repeat(64))).toBe(256)
    expect(popcount32(0xffffffff)).toBe(32)
    expect(popcount32(0x80000001)).toBe(2)
  })

  it('probes 272 keys at radius 1 and 2,192 at radius 2; every hash within 31 bits shares a probed slot', () => {
    const bytes = hexToBytes(needles[3]!)
    expect(probeKeys(bytes, 0).size).toBe(16)
    expect(probeKeys(bytes, 1).size).toBe(272)
    expect(probeKeys(bytes, 2).size).toBe(2192)
    const probes = probeKeys(bytes, probeRadius(31))
    for (let trial = 0; trial < 200; trial++) {
      // 31 random distinct bits: by pigeonhole some slot has at most one of them
      const bits = new Set<number>()
      while (bits.size < 31) bits.add(Math.floor(Math.random() * 256))
      const near = hexToBytes(flip(needles[3]!, [...bits]))
      expect(slotKeys(near).some((k) => probes.has(k))).toBe(true)
    }
  })
})
