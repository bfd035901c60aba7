/**
 * A/B watermarked video end to end against `wrangler dev`, through the public API only: a creator
 * uploads Meta's vPDQ sample `chair-19-sd-bar.mp4`, ingest waits for frames, the offline packager
 * (scripts/packager.mjs, Debian ffmpeg) makes the A and B renditions, a moderator approves, the
 * creator publishes; two viewers stream it and each gets the variant sequence of their own mark;
 * the leak tracer (scripts/leak-trace.mjs) reads that sequence back from a byte-exact download and
 * from a re-encoded, downscaled copy, and the leak endpoint names the viewer.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDevVars } from '../scripts/dev-server.mjs'
import { client } from '../scripts/packager/http.mjs'
import { run } from '../scripts/packager/ffmpeg.mjs'
import { sha256 } from '../scripts/packager/trace.mjs'
import { variantAt } from '../workers/media/ab/pattern'
import { port } from './browser'
import { sampleDepiction, samplePerformerRecord } from '../workers/vault/records/sample'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const VIDEO = join(ROOT, '../shared/data/pdq/video/chair-19-sd-bar.mp4')
const API = `http://127.0.0.1:${port}`
const CREATOR_USER = 'usr_01JFANZDEM0000000000000004' // Alex Rivers (seed), creator on BoyFanz
const exec = promisify(execFile)

type Call = ReturnType<typeof client>
/** BoyFanz (d1/seed.sql), the demo creator's brand */
const BOYFANZ = 'brd_01JFANZ0000000000000000001'

const as = (token?: string): Call => client({ api: API, host: 'api.localhost', token })

async function mint(roles: string[], subject?: string, strong = false): Promise<{ token: string; subject: string }> {
  // strong: two factors just now (the vault's step-up for 2257 record keeping)
  const res = await client({ api: API, host: 'api.localhost' })('POST', '/api/dev/tokens', { body: { roles, ...(subject ? { subject } : {}), ...(strong ? { amr: ['pwd', 'otp', 'mfa'] } : {}) }, headers: { 'x-dev-token-secret': ensureDevVars().DEV_TOKEN_SECRET } })
  if (res.status !== 201) throw new Error(`mint ${roles}: ${res.status} ${res.body}`)
  const body = res.json()
  return { token: body.access_token, subject: body.subject }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, explain: () => Promise<string> = async () => ''): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} ${await explain()}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

const ok = (res: { status: number; body: Buffer }, statuses: number[], what: string) => {
  if (!statuses.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.body.toString().slice(0, 400)}`)
  return res
}

/** The serial a delivery URL's token carries (its claims are signed, not secret). */
const serialOf = (url: string): number => {
  const token = /\/api\/media\/delivery\/([^/]+)\/hls\//.exec(url)![1]!
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).s
}

async function trace(args: string[]): Promise<{ observations: { index: number; variant: string | null }[]; status?: number; result?: Record<string, unknown> }> {
  const { stdout } = await exec('node', ['scripts/leak-trace.mjs', '--api', API, '--host', 'api.localhost', '--token', tokens.compliance!.token, '--item', itemId, ...args], { cwd: ROOT, timeout: 120_000 })
  return JSON.parse(stdout)
}

let work: string
let itemId: string
const tokens: Record<string, { token: string; subject: string }> = {}
const viewers: { name: string; subject: string; serial: number; dir: string; sequence: string }[] = []

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'media-ab-e2e-'))
  tokens.creator = await mint(['fan', 'creator'], CREATOR_USER) // every account is a fan (roles/store.ts)
  tokens.service = await mint(['service'])
  tokens.moderator = await mint(['fan', 'moderator'])
  tokens.compliance = await mint(['compliance_officer'])
  tokens.custodian = await mint(['custodian'], undefined, true)
}, 60_000)

/** The performer depicted, with a 2257 record and the depiction's consent and release, as the custodian keeps them. */
async function recordPerformer(mediaId: string): Promise<string> {
  const custodian = as(tokens.custodian!.token)
  const purpose = { 'vault-purpose': 'records_maintenance; note="2257 record for the e2e video"' }
  const record = ok(
    await custodian('POST', '/api/vault/records/performers', { headers: { ...purpose, 'idempotency-key': `"${randomUUID()}"` }, body: samplePerformerRecord(BOYFANZ, randomUUID().slice(0, 8)) }),
    [201],
    '2257 record',
  ).json()
  ok(await custodian('POST', `/api/vault/records/performers/${record.id}/media`, { headers: purpose, body: sampleDepiction(mediaId, BOYFANZ, 'Chair') }), [201], 'depiction link')
  return record.id
}

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('A/B watermarked video, upload to leak trace', () => {
  it('a creator uploads the video; the packager makes its A/B renditions and keyframes', async () => {
    const bytes = await readFile(VIDEO)
    const creator = as(tokens.creator!.token)
    const upload = ok(await creator('POST', '/api/media/uploads/multipart', { body: { type: 'video/mp4', size: bytes.length, filename: 'chair.mp4', title: 'Chair', brand: 'boyfanz' } }), [201], 'start upload').json()
    itemId = upload.item_id
    for (let n = 1; n <= upload.part_count; n++) {
      const part = bytes.subarray((n - 1) * upload.part_size, Math.min(bytes.length, n * upload.part_size))
      ok(await creator('PUT', `/api/media/uploads/multipart/${upload.upload_id}/parts/${n}`, { body: part, headers: { 'content-type': 'application/octet-stream' } }), [200, 201, 204], `part ${n}`)
    }
    ok(await creator('POST', `/api/media/uploads/multipart/${upload.upload_id}/complete`, { body: {} }), [200], 'complete upload')

    const service = as(tokens.service!.token)
    await until('the packager job', async () => (ok(await service('GET', '/api/media/packager/jobs?limit=50'), [200], 'jobs').json().jobs.some((j: { id: string }) => j.id === itemId) ? true : undefined))
    const { stdout } = await exec('node', ['scripts/packager.mjs', '--api', API, '--host', 'api.localhost', '--token', tokens.service!.token, '--once'], { cwd: ROOT, timeout: 120_000 })
    expect(stdout).toContain(`${itemId}: 10 segments x 2 variants`)

    const manifest = ok(await as(tokens.compliance!.token)('GET', `/api/media/hls/${itemId}/manifest`), [200], 'manifest').json()
    expect(manifest).toMatchObject({ segments: 10, width: 480, height: 720 })
    expect(manifest.frames).toBeGreaterThanOrEqual(18)
  }, 180_000)

  it("the leak tracer reads a copy's variant sequence against the API's A/B references (byte-exact and re-encoded)", async () => {
    // a copy as the viewer with serial 4242 would have saved it, assembled from the references
    const compliance = as(tokens.compliance!.token)
    const serial = 4242
    const expected = Array.from({ length: 10 }, (_, i) => variantAt(serial, i)).join('')
    const dir = join(work, 'simulated')
    await mkdir(dir)
    const parts = [ok(await compliance('GET', `/api/media/hls/${itemId}/init.mp4`), [200], 'init').body]
    for (let i = 0; i < 10; i++) {
      const name = `${String(i).padStart(5, '0')}.m4s`
      const bytes = ok(await compliance('GET', `/api/media/hls/${itemId}/${expected[i]}/${name}`), [200], name).body
      await writeFile(join(dir, name), bytes)
      parts.push(bytes)
    }
    const exact = await trace(['--dir', dir, '--no-submit'])
    expect(exact.observations.map((o) => o.variant).join('')).toBe(expected)
    const saved = join(work, 'simulated.mp4')
    await writeFile(saved, Buffer.concat(parts))
    const leak = join(work, 'simulated-small.mp4')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', saved, '-vf', 'scale=iw/2:ih/2', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-an', leak])
    const reencoded = await trace(['--file', leak, '--no-submit'])
    expect(reencoded.observations.map((o) => o.variant).join('')).toBe(expected)
  }, 120_000)

  it('after review and publication, each viewer streams the variant sequence of their own mark', async () => {
    const moderator = as(tokens.moderator!.token)
    await until('the item in the review queue', async () => {
      const res = await moderator('GET', '/api/media/review?limit=100')
      return res.status === 200 && res.body.toString().includes(itemId) ? true : undefined
    }, 180_000, async () => `(the item as its creator sees it: ${(await as(tokens.creator!.token)('GET', `/api/media/items/${itemId}`)).body.toString().slice(0, 600)})`)
    ok(await moderator('POST', `/api/media/review/${itemId}/claim`, { body: {} }), [200], 'claim')
    ok(await moderator('POST', `/api/media/review/${itemId}/decision`, { body: { decision: 'approve', reasons: [] } }), [200], 'approve')
    const performer = await recordPerformer(itemId)
    ok(await as(tokens.creator!.token)('PUT', `/api/media/items/${itemId}/performers`, { body: { performer_ids: [performer] } }), [200], 'performers')
    ok(await as(tokens.creator!.token)('POST', `/api/media/items/${itemId}/publish`, { body: {} }), [200], 'publish')

    const manifest = as(tokens.compliance!.token)
    const digests = ok(await manifest('GET', `/api/media/hls/${itemId}/manifest`), [200], 'manifest').json() as { a: string[]; b: string[] }
    for (const name of ['creator', 'moderator'] as const) {
      const viewer = as(tokens[name]!.token)
      const delivery = ok(await viewer('POST', `/api/media/items/${itemId}/delivery`, { body: {} }), [200], `delivery for ${name}`).json()
      expect(delivery.kind).toBe('hls')
      const path = new URL(delivery.url).pathname
      const base = path.slice(0, path.lastIndexOf('/') + 1)
      const anonymous = as() // a player follows the URL without a bearer header
      const playlist = ok(await anonymous('GET', path), [200], 'playlist')
      expect(playlist.headers['cache-control']).toBe('private, no-store')
      const uris = playlist.body.toString().split('\n').filter((l) => l.endsWith('.m4s'))
      expect(uris).toHaveLength(10)
      const dir = join(work, name)
      await mkdir(dir)
      await writeFile(join(dir, 'init.mp4'), ok(await anonymous('GET', `${base}init.mp4`), [200], 'init').body)
      let sequence = ''
      for (const [i, uri] of uris.entries()) {
        const segment = ok(await anonymous('GET', `${base}${uri}`), [200], uri).body
        await writeFile(join(dir, `${String(i).padStart(5, '0')}.m4s`), segment)
        sequence += digests.a[i] === sha256(segment) ? 'a' : digests.b[i] === sha256(segment) ? 'b' : '?'
      }
      const serial = serialOf(delivery.url)
      expect(sequence).toBe(Array.from({ length: 10 }, (_, i) => variantAt(serial, i)).join(''))
      viewers.push({ name, subject: tokens[name]!.subject, serial, dir, sequence })
    }
    expect(viewers[0]!.sequence).not.toBe(viewers[1]!.sequence)
  }, 300_000)


  it("traces a byte-exact download back to the moderator's account", async () => {
    const leaker = viewers.find((v) => v.name === 'moderator')!
    const out = await trace(['--dir', leaker.dir])
    expect(out.observations.map((o) => o.variant).join('')).toBe(leaker.sequence)
    expect(out.status).toBe(200)
    expect(JSON.stringify(out.result)).toContain(leaker.subject)
  }, 120_000)

  it("traces a re-encoded, half-size copy back to the creator's own account", async () => {
    const leaker = viewers.find((v) => v.name === 'creator')!
    const saved = join(work, 'saved.mp4')
    const parts = [await readFile(join(leaker.dir, 'init.mp4'))]
    for (let i = 0; i < 10; i++) parts.push(await readFile(join(leaker.dir, `${String(i).padStart(5, '0')}.m4s`)))
    await writeFile(saved, Buffer.concat(parts))
    const leak = join(work, 'leak.mp4')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', saved, '-vf', 'scale=iw/2:ih/2', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-an', leak])
    const out = await trace(['--file', leak])
    expect(out.observations.map((o) => o.variant).join('')).toBe(leaker.sequence)
    expect(out.status).toBe(200)
    // the creator's own copy carries the creator's mark: no viewer, the creator named
    expect(out.result).toMatchObject({ item_id: itemId, serial: leaker.serial, viewer_id: null, creator_id: 'crt_01JFANZ0000000000000000101', distance: 0 })
  }, 120_000)
})
