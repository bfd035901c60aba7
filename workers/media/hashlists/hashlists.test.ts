/**
 * Hash lists end to end: lists created and changed through `/api/media/hash-lists`, files imported
 * through the API and the `media.hashlist.import` queue handler, matched through `matchHashes`
 * and `POST /hash-matches` against the multi-index in the HashIndex object. The needle and
 * haystack files are Meta's PDQ regression data (shared/data/pdq/hash-lists) with their published
 * brute-force pair counts; the pairs themselves are recomputed here by brute force.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import haystackText from '../../../../shared/data/pdq/hash-lists/haystack.txt?raw'
import needlesText from '../../../../shared/data/pdq/hash-lists/needles.txt?raw'
import expectedTsv from '../../../../shared/data/pdq/hash-lists/EXPECTED.tsv?raw'
import bridgeOriginal from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-1-original.jpg?bytes'
import { call, tokenFor } from '../../../test/helpers'
import entry from '../../index'
import { fingerprintImage } from '../pdq/fingerprint'
import { bytesToHex, hexToBytes, pdqDistance, pdqWords, wordsDistance } from './hamming'
import { importMessage, parseImportLine, processImportChunk, type ImportChunk } from './import-consumer'
import { addToPlatformList, matchHashes, PLATFORM_LIST_ID } from './match'

const API = 'api.localhost'
const worker: Pick<Required<ExportedHandler<Env>>, 'queue'> = entry
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean)
const needles = lines(needlesText)
const haystack = lines(haystackText)
const expected = new Map(
  lines(expectedTsv)
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split('\t').map(Number))
    .map(([d, pairs, withMatch]) => [d!, { pairs: pairs!, withMatch: withMatch! }]),
)

/** Published C++ hashes of the dihedral test files (expected-pdq-hashes.csv, impl cpp). */
const BRIDGE_ROTATE_90 = 'b0a10efd71cc3f429413d48d0ffffe12e34e0e17ada952a9d29684210aa9e5af'
const BRIDGE_FLIP_X = 'f8f80f31e0f417b00e37f5cd028f980fb36ed02a9662c1e233e6cc634e9c64dd'

let compliance: string
let moderator: string
let creator: string

beforeAll(async () => {
  compliance = await tokenFor(['compliance_officer'], { subject: 'usr_01JFANZC0MP11ANCE00000001' })
  moderator = await tokenFor(['moderator'], { subject: 'usr_01JFANZM0DERAT0R0000000001' })
  creator = await tokenFor(['creator'], { subject: 'usr_01JFANZDEM0000000000000002' })
})

type ListView = { id: string; name: string; source: string; active: boolean; entry_count: number }
type ImportView = { id: string; status: string; lines_read: number; added: number; duplicates: number; invalid: number; errors: Array<{ line: number; reason: string }>; duplicate_file: boolean }
type MatchView = { list_id: string; source: string; kind: string; entry_hash: string; query_hash: string; distance: number; ref: string | null }

async function createList(name: string, source = 'ncii', provider = 'StopNCII'): Promise<ListView> {
  const res = await call(API, '/api/media/hash-lists', { token: compliance, body: { name, source, provider } })
  expect(res.status).toBe(201)
  return (await res.json()) as ListView
}

async function upload(listId: string, text: string, type = 'text/plain'): Promise<ImportView> {
  const res = await call(API, `/api/media/hash-lists/${listId}/imports`, { token: compliance, headers: { 'content-type': type }, body: text })
  expect(res.status, await res.clone().text()).toBe(202)
  return (await res.json()) as ImportView
}

/** Runs an import's chunks one by one through the handler's own code; returns how many were applied. */
async function drive(importId: string, chunkLines: number): Promise<number> {
  let chunk: ImportChunk | null = { importId, startLine: 0, startByte: 0, chunkLines }
  let applied = 0
  while (chunk) {
    const outcome = await processImportChunk(env, chunk)
    if (outcome.status === 'applied') applied++
    chunk = outcome.next
  }
  return applied
}

async function importStatus(listId: string, importId: string): Promise<ImportView> {
  const res = await call(API, `/api/media/hash-lists/${listId}/imports/${importId}`, { token: compliance })
  expect(res.status).toBe(200)
  return (await res.json()) as ImportView
}

async function matchApi(body: unknown, token = compliance): Promise<Response> {
  return call(API, '/api/media/hash-matches', { token, body })
}

const randomPdq = () => bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
const randomMd5 = () => bytesToHex(crypto.getRandomValues(new Uint8Array(16)))
function flipBits(hex: string, count: number): string {
  const bytes = hexToBytes(hex)
  for (let k = 0; k < count; k++) bytes[(k * 11) % 32]! ^= 1 << (k % 8)
  return bytesToHex(bytes)
}

describe('needles vs haystack (Meta PDQ regression lists)', () => {
  let haystackList: ListView

  it('imports the haystack over several queue chunks, then the same file again is the same import', async () => {
    haystackList = await createList('PDQ haystack')
    const first = await upload(haystackList.id, haystack.join('\n') + '\n')
    expect(first).toMatchObject({ status: 'queued', lines_read: 0, duplicate_file: false })
    // chunks of 400 lines: 1,350 lines take 4 messages
    expect(await drive(first.id, 400)).toBe(4)
    const done = await importStatus(haystackList.id, first.id)
    expect(done).toMatchObject({ status: 'done', lines_read: 1350, added: 1350, duplicates: 0, invalid: 0, errors: [] })
    const again = await upload(haystackList.id, haystack.join('\n') + '\n')
    expect(again).toMatchObject({ id: first.id, duplicate_file: true, status: 'done', added: 1350 })
    const view = (await (await call(API, `/api/media/hash-lists/${haystackList.id}`, { token: compliance })).json()) as ListView & { counts: { pdq: number; md5: number } }
    expect(view).toMatchObject({ entry_count: 1350, counts: { pdq: 1350, md5: 0 } })
  })

  it('finds exactly the brute-force pairs at d <= 31 (250, all 100 needles) and d <= 0 (50)', async () => {
    const n = needles.map((h) => [h, pdqWords(hexToBytes(h))] as const)
    const hs = haystack.map((h) => [h, pdqWords(hexToBytes(h))] as const)
    for (const d of [31, 0]) {
      const brute = new Set<string>()
      for (const [a, aw] of n) for (const [b, bw] of hs) if (wordsDistance(aw, bw) <= d) brute.add(`${a}|${b}`)
      expect(brute.size).toBe(expected.get(d)!.pairs)
      const found = new Set<string>()
      for (const needle of needles) {
        for (const m of await matchHashes(env, { pdq: [needle] }, d)) {
          if (m.listId !== haystackList.id) continue
          expect(m.distance).toBe(pdqDistance(m.queryHash, m.entryHash))
          expect(m.source).toBe('ncii')
          found.add(`${m.queryHash}|${m.entryHash}`)
        }
      }
      expect(found).toEqual(brute)
      expect(new Set([...found].map((p) => p.split('|')[0])).size).toBe(expected.get(d)!.withMatch)
    }
  })

  it('answers the same through POST /hash-matches, closest first, for moderators too', async () => {
    const needle = needles.find((h) => haystack.some((x) => pdqDistance(h, x) > 0 && pdqDistance(h, x) <= 31))!
    const res = await matchApi({ pdq: [needle.toUpperCase()] }, moderator)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { matches: MatchView[]; candidates_verified: number; method: string }
    const mine = body.matches.filter((m) => m.list_id === haystackList.id)
    const brute = haystack.filter((h) => pdqDistance(needle, h) <= 31)
    expect(mine.map((m) => m.entry_hash).sort()).toEqual(brute.sort())
    expect(mine.map((m) => m.distance)).toEqual([...mine.map((m) => m.distance)].sort((a, b) => a - b))
    expect(body.method).toBe('multi-index')
    expect(body.candidates_verified).toBeLessThan(haystack.length)
  })

  it('a deactivated list is not matched; reactivated it is again', async () => {
    const needle = needles[0]!
    const before = (await matchHashes(env, { pdq: [needle] })).filter((m) => m.listId === haystackList.id)
    expect(before.length).toBeGreaterThan(0)
    const off = await call(API, `/api/media/hash-lists/${haystackList.id}`, { method: 'PATCH', token: compliance, body: { active: false } })
    expect(off.status).toBe(200)
    expect(((await off.json()) as ListView).active).toBe(false)
    expect((await matchHashes(env, { pdq: [needle] })).filter((m) => m.listId === haystackList.id)).toEqual([])
    await call(API, `/api/media/hash-lists/${haystackList.id}`, { method: 'PATCH', token: compliance, body: { active: true } })
    expect((await matchHashes(env, { pdq: [needle] })).filter((m) => m.listId === haystackList.id)).toEqual(before)
  })
})

describe('imports', () => {
  it('reads kind,hash,ref lines, counts duplicates and reports invalid lines with their numbers', async () => {
    const list = await createList('Provider list', 'illegal_content', 'Example provider')
    const pdq = randomPdq()
    const md5 = randomMd5()
    const file = [
      'kind,hash,ref',
      `pdq,${pdq},case-1`,
      `md5,${md5.toUpperCase()},case-2`,
      '# a comment',
      '',
      `pdq,${pdq},case-1-again`,
      `pdq,${md5}`,
      'sha1,da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'not a hash',
      `${randomPdq()}`,
      `md5,${randomMd5()},a,b`,
    ].join('\r\n')
    const created = await upload(list.id, file, 'text/csv')
    expect(await drive(created.id, 5000)).toBe(1)
    const done = await importStatus(list.id, created.id)
    expect(done).toMatchObject({ status: 'done', lines_read: 11, added: 3, duplicates: 1, invalid: 4 })
    expect(done.errors).toEqual([
      { line: 7, reason: 'pdq hash must be 64 hex digits' },
      { line: 8, reason: 'unknown kind "sha1" (pdq or md5)' },
      { line: 9, reason: 'not a PDQ (64 hex digits) or MD5 (32 hex digits)' },
      { line: 11, reason: 'too many fields (kind,hash[,ref])' },
    ])
    // MD5: exact match only, with the entry's ref
    const res = await matchApi({ md5 })
    const matches = ((await res.json()) as { matches: MatchView[] }).matches.filter((m) => m.list_id === list.id)
    expect(matches).toEqual([{ list_id: list.id, source: 'illegal_content', kind: 'md5', entry_hash: md5, query_hash: md5, distance: 0, ref: 'case-2' }])
    expect((await matchHashes(env, { pdq: [], md5: randomMd5() })).filter((m) => m.listId === list.id)).toEqual([])
    expect((await matchHashes(env, { pdq: [flipBits(pdq, 12)] })).filter((m) => m.listId === list.id)).toMatchObject([{ distance: 12, ref: 'case-1', kind: 'pdq' }])
  })

  it('is processed by the queue on its own (message sent by the API, chunks re-enqueued)', async () => {
    const list = await createList('Queued list', 'manual', 'ops')
    const entries = Array.from({ length: 30 }, () => randomPdq())
    const created = await upload(list.id, entries.join('\n'))
    // the API's message, delivered as the queue would, with a small chunk so it re-enqueues
    const ctx = createExecutionContext()
    const batch = createMessageBatch('fanz-media-ingest', [{ id: 'm1', timestamp: new Date(), attempts: 1, body: importMessage({ importId: created.id, startLine: 0, startByte: 0, chunkLines: 15 }) }])
    await worker.queue(batch, env, ctx)
    const result = await getQueueResult(batch, ctx)
    expect(result.explicitAcks).toEqual(['m1'])
    expect(await importStatus(list.id, created.id)).toMatchObject({ status: 'running', lines_read: 15, added: 15 })
    // the rest arrives through the real queue (the next chunk was sent by the handler)
    let status = await importStatus(list.id, created.id)
    for (let i = 0; i < 60 && status.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 250))
      status = await importStatus(list.id, created.id)
    }
    expect(status).toMatchObject({ status: 'done', lines_read: 30, added: 30, duplicates: 0 })
  })

  it('applies a chunk once even when its message is delivered twice', async () => {
    const list = await createList('Twice', 'manual', 'ops')
    const created = await upload(list.id, Array.from({ length: 5 }, () => randomPdq()).join('\n'))
    const chunk = { importId: created.id, startLine: 0, startByte: 0, chunkLines: 3 }
    const first = await processImportChunk(env, chunk)
    const second = await processImportChunk(env, chunk)
    expect(first).toMatchObject({ status: 'applied', lines: 3, added: 3 })
    // the redelivery changes nothing but still names the next chunk (in case the first send was lost)
    expect(second).toMatchObject({ status: 'skipped', next: first.next })
    await drive(created.id, 3)
    expect(await importStatus(list.id, created.id)).toMatchObject({ status: 'done', lines_read: 5, added: 5, duplicates: 0 })
    const listView = (await (await call(API, `/api/media/hash-lists/${list.id}`, { token: compliance })).json()) as ListView
    expect(listView.entry_count).toBe(5)
  })

  it('counts an over-long line and a line that is not UTF-8 as invalid, and goes on after them', async () => {
    const list = await createList('Odd bytes', 'manual', 'ops')
    const good = [randomPdq(), randomPdq(), randomPdq()]
    const text = new TextEncoder().encode(`${good[0]}\n${'x'.repeat(1000)}\n${good[1]}\n`)
    const bytes = new Uint8Array([...text, 0x6d, 0x64, 0x35, 0x2c, 0xff, 0xfe, 0x0a, ...new TextEncoder().encode(good[2]!)])
    const res = await call(API, `/api/media/hash-lists/${list.id}/imports`, { token: compliance, headers: { 'content-type': 'text/plain' }, body: bytes })
    expect(res.status).toBe(202)
    const created = (await res.json()) as ImportView
    // 2 lines per chunk: a 600-byte window, shorter than the 1,000-character line
    await drive(created.id, 2)
    const done = await importStatus(list.id, created.id)
    expect(done).toMatchObject({ status: 'done', lines_read: 5, added: 3, invalid: 2 })
    expect(done.errors).toEqual([
      { line: 2, reason: 'line longer than 600 bytes' },
      { line: 4, reason: 'not UTF-8 text' },
    ])
  })

  it('parses the line formats', () => {
    const pdq = 'a'.repeat(64)
    expect(parseImportLine(`\uFEFF${pdq}`, 1)).toEqual({ ok: true, entry: { kind: 'pdq', hash: pdq, ref: null } })
    expect(parseImportLine(` PDQ , ${pdq.toUpperCase()} , ref 9 `, 2)).toEqual({ ok: true, entry: { kind: 'pdq', hash: pdq, ref: 'ref 9' } })
    expect(parseImportLine('md5,abc', 3)).toEqual({ ok: false, reason: 'md5 hash must be 32 hex digits' })
    expect(parseImportLine(`md5,${'b'.repeat(32)},${'x'.repeat(201)}`, 4)).toEqual({ ok: false, reason: 'ref longer than 200 characters' })
    expect(parseImportLine('kind,hash,ref', 5)).toEqual({ ok: false, reason: 'unknown kind "kind" (pdq or md5)' })
  })

  it('refuses wrong types, empty files and the platform list', async () => {
    const list = await createList('Refusals', 'manual', 'ops')
    const json = await call(API, `/api/media/hash-lists/${list.id}/imports`, { token: compliance, body: { hashes: [] } })
    expect(json.status).toBe(415)
    expect(json.headers.get('content-type')).toContain('application/problem+json')
    const empty = await call(API, `/api/media/hash-lists/${list.id}/imports`, { method: 'POST', token: compliance, headers: { 'content-type': 'text/plain' }, body: '' })
    expect(empty.status).toBe(422)
    expect(((await empty.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body')
    const platform = await call(API, `/api/media/hash-lists/${PLATFORM_LIST_ID}/imports`, { token: compliance, headers: { 'content-type': 'text/plain' }, body: randomPdq() })
    expect(platform.status).toBe(409)
    const missing = await call(API, '/api/media/hash-lists/hl_01JFANZ0000000000000000000/imports', { token: compliance, headers: { 'content-type': 'text/plain' }, body: randomPdq() })
    expect(missing.status).toBe(404)
  })
})

describe('dihedral matching', () => {
  it('finds a rotated and a flipped copy through the 8 dihedral hashes of the original, not through its plain hash', async () => {
    const list = await createList('Rotated copies', 'ncii', 'StopNCII')
    const created = await upload(list.id, `pdq,${BRIDGE_ROTATE_90},rotated\npdq,${BRIDGE_FLIP_X},flipped\n`)
    await drive(created.id, 100)
    const fp = await fingerprintImage(bridgeOriginal, 'image/jpeg')
    expect(fp.dihedral).toHaveLength(8)
    expect((await matchHashes(env, { pdq: [fp.pdq] })).filter((m) => m.listId === list.id)).toEqual([])
    const found = (await matchHashes(env, { pdq: fp.dihedral })).filter((m) => m.listId === list.id)
    expect(found.map((m) => m.ref).sort()).toEqual(['flipped', 'rotated'])
    for (const m of found) {
      expect(m.distance).toBeLessThanOrEqual(31)
      expect(fp.dihedral).toContain(m.queryHash)
      expect(m.queryHash).not.toBe(fp.pdq)
    }
  })
})

describe('the platform list', () => {
  it('takes a removed item\'s hashes: a re-encoded copy matches it with the item id as ref', async () => {
    const pdq = randomPdq()
    const md5 = randomMd5()
    const itemId = `med_01JFANZREM0VED${crypto.randomUUID().replace(/-/g, '').slice(0, 11).toUpperCase()}`
    const before = (await env.DB.prepare('SELECT entry_count FROM media_hash_lists WHERE id = ?').bind(PLATFORM_LIST_ID).first<{ entry_count: number }>())!.entry_count
    await addToPlatformList(env, { itemId, pdq, md5, reason: 'dmca' })
    await addToPlatformList(env, { itemId, pdq, md5, reason: 'dmca' })
    const after = (await env.DB.prepare('SELECT entry_count FROM media_hash_lists WHERE id = ?').bind(PLATFORM_LIST_ID).first<{ entry_count: number }>())!.entry_count
    expect(after - before).toBe(2)
    const matches = await matchHashes(env, { pdq: [flipBits(pdq, 20)], md5 })
    expect(matches.filter((m) => m.ref === itemId)).toEqual([
      { listId: PLATFORM_LIST_ID, source: 'platform_removed', kind: 'md5', entryHash: md5, queryHash: md5, distance: 0, ref: itemId },
      { listId: PLATFORM_LIST_ID, source: 'platform_removed', kind: 'pdq', entryHash: pdq, queryHash: flipBits(pdq, 20), distance: 20, ref: itemId },
    ])
    expect((await matchHashes(env, { pdq: [flipBits(pdq, 32)] })).filter((m) => m.ref === itemId)).toEqual([])
  })

  it('cannot be deactivated or deleted', async () => {
    const off = await call(API, `/api/media/hash-lists/${PLATFORM_LIST_ID}`, { method: 'PATCH', token: compliance, body: { active: false } })
    expect(off.status).toBe(409)
    expect(((await off.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('body.active')
    expect((await call(API, `/api/media/hash-lists/${PLATFORM_LIST_ID}`, { method: 'DELETE', token: compliance })).status).toBe(409)
  })
})

describe('entries and lists', () => {
  it('removes entries and deletes a list with everything in it, audited', async () => {
    const list = await createList('Short-lived', 'manual', 'ops')
    const keep = randomPdq()
    const drop = randomPdq()
    const created = await upload(list.id, `${keep}\n${drop}\n`)
    await drive(created.id, 100)
    const removed = await call(API, `/api/media/hash-lists/${list.id}/entries`, { method: 'DELETE', token: compliance, body: { hashes: [drop, randomPdq()], reason: 'provider retracted it' } })
    expect(removed.status).toBe(200)
    expect(await removed.json()).toEqual({ removed: 1, not_found: 1 })
    expect((await matchHashes(env, { pdq: [drop] })).filter((m) => m.listId === list.id)).toEqual([])
    expect((await matchHashes(env, { pdq: [keep] })).filter((m) => m.listId === list.id)).toHaveLength(1)
    const deleted = await call(API, `/api/media/hash-lists/${list.id}`, { method: 'DELETE', token: compliance })
    expect(await deleted.json()).toEqual({ id: list.id, removed_entries: 1 })
    expect((await matchHashes(env, { pdq: [keep] })).filter((m) => m.listId === list.id)).toEqual([])
    expect((await call(API, `/api/media/hash-lists/${list.id}`, { token: compliance })).status).toBe(404)
    const audit = await call(API, `/api/compliance/audit?subject=${encodeURIComponent(`hash_list:${list.id}`)}`, { token: compliance })
    expect(audit.status).toBe(200)
    const actions = ((await audit.json()) as { items: Array<{ action: string }> }).items.map((e) => e.action)
    expect(actions).toEqual(['media.hashlist.create', 'media.hashlist.import', 'media.hashlist.entries_remove', 'media.hashlist.delete'])
  })
})

describe('access and validation', () => {
  it('only compliance (and admins) manage lists; moderators may only match', async () => {
    expect((await call(API, '/api/media/hash-lists')).status).toBe(401)
    for (const token of [creator, moderator]) {
      const res = await call(API, '/api/media/hash-lists', { token, body: { name: 'x', source: 'ncii', provider: 'y' } })
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
    }
    expect((await call(API, '/api/media/hash-lists', { token: moderator })).status).toBe(403)
    expect((await matchApi({ pdq: [randomPdq()] }, creator)).status).toBe(403)
    expect((await matchApi({ pdq: [randomPdq()] }, moderator)).status).toBe(200)
    const admin = await tokenFor(['admin'])
    expect((await call(API, '/api/media/hash-lists', { token: admin })).status).toBe(200)
  })

  it('names the offending fields', async () => {
    const create = await call(API, '/api/media/hash-lists', { token: compliance, body: { name: '', source: 'platform_removed', provider: 'x', extra: 1 } })
    expect(create.status).toBe(422)
    const paths = ((await create.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()
    expect(paths).toEqual(['body.extra', 'body.name', 'body.source'])
    const match = await matchApi({ pdq: ['abc', randomPdq()], md5: 'zz', max_distance: 99 })
    expect(match.status).toBe(422)
    expect(((await match.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()).toEqual(['body.max_distance', 'body.md5', 'body.pdq.0'])
    const nothing = await matchApi({})
    expect(((await nothing.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['body.pdq'])
    const badId = await call(API, '/api/media/hash-lists/nope', { token: compliance })
    expect(badId.status).toBe(400)
    expect(((await badId.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('param.id')
    const badRemove = await call(API, `/api/media/hash-lists/${PLATFORM_LIST_ID}/entries`, { method: 'DELETE', token: compliance, body: { hashes: ['123'], reason: 'r' } })
    expect(((await badRemove.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()).toEqual(['body.hashes.0', 'body.reason'])
    const noChange = await call(API, `/api/media/hash-lists/${PLATFORM_LIST_ID}`, { method: 'PATCH', token: compliance, body: {} })
    expect(noChange.status).toBe(422)
  })
})
