/**
 * Dev-only bench endpoint for bench/vault.mjs, dispatched from workers/index.ts before the edge app
 * (like ledger/bench-route.ts) and refused again here unless ENVIRONMENT is dev or test. Each
 * request runs `n` operations on the same 5 MB buffer (made once per isolate) in workerd:
 * - GET /__bench/vault/envelope/encrypt?n=N   new data key, wrap it under the active KEK, seal the buffer
 * - GET /__bench/vault/envelope/decrypt?n=N   unwrap the data key, open the sealed buffer
 * - GET /__bench/vault/raw/encrypt?n=N        AES-256-GCM encrypt with one fixed key, fresh IV
 * - GET /__bench/vault/raw/decrypt?n=N        AES-256-GCM decrypt of the same buffer's ciphertext
 * - GET /__bench/vault/raw/encrypt-framed?n=N raw encrypt + the copy into a header-framed buffer (what sealObject adds)
 * Answers `{ bytes, n, ok }`; the client times the request (the Workers clock only moves on I/O, so
 * an in-Worker timer would read 0 for pure CPU work).
 * @module
 */
import { Hono } from 'hono'
import { newDataKey, openObject, sealObject, unwrapDataKey, wrapDataKey, type VaultContext } from './envelope'
import { vaultKeyring } from './store'

export const BENCH_DOCUMENT_BYTES = 5_000_000
const CONTEXT: VaultContext = { recordType: 'bench_document', recordId: 'bench_record', objectId: 'vob_bench' }

interface Fixture {
  plain: Uint8Array
  kek: CryptoKey
  sealed: Uint8Array
  wrapped: string
  rawKey: CryptoKey
  rawIv: Uint8Array
  rawSealed: Uint8Array
}

let fixture: Promise<Fixture> | undefined

async function prepare(env: Env): Promise<Fixture> {
  const plain = new Uint8Array(BENCH_DOCUMENT_BYTES)
  // getRandomValues fills at most 65,536 bytes per call
  for (let i = 0; i < plain.length; i += 65_536) crypto.getRandomValues(plain.subarray(i, Math.min(i + 65_536, plain.length)))
  const keyring = vaultKeyring(env)
  const kek = await keyring.kek(keyring.active)
  const dek = await newDataKey()
  const wrapped = await wrapDataKey(kek, dek, CONTEXT)
  const sealed = await sealObject(dek, CONTEXT, plain)
  const rawKey = (await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])) as CryptoKey
  const rawIv = crypto.getRandomValues(new Uint8Array(12))
  const rawSealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: rawIv }, rawKey, plain))
  return { plain, kek, sealed, wrapped, rawKey, rawIv, rawSealed }
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a[0] === b[0] && a[a.length >> 1] === b[b.length >> 1] && a[a.length - 1] === b[b.length - 1]

type Op = (f: Fixture) => Promise<boolean>

const OPS: Record<string, Op> = {
  'envelope/encrypt': async (f) => {
    const dek = await newDataKey()
    const wrapped = await wrapDataKey(f.kek, dek, CONTEXT)
    const sealed = await sealObject(dek, CONTEXT, f.plain)
    return wrapped.length > 0 && sealed.length === f.plain.length + 32
  },
  'envelope/decrypt': async (f) => {
    const dek = await unwrapDataKey(f.kek, f.wrapped, CONTEXT)
    return same(await openObject(dek, CONTEXT, f.sealed), f.plain)
  },
  'raw/encrypt': async (f) => {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    return (await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, f.rawKey, f.plain)).byteLength === f.plain.length + 16
  },
  // raw encrypt plus the one copy sealObject makes to prepend the FZV1 header: explains the gap
  'raw/encrypt-framed': async (f) => {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, f.rawKey, f.plain))
    const out = new Uint8Array(16 + sealed.length)
    out.set(iv, 4)
    out.set(sealed, 16)
    return out.length === f.plain.length + 32
  },
  'raw/decrypt': async (f) => same(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: f.rawIv }, f.rawKey, f.rawSealed)), f.plain),
}

export const benchVault = new Hono<{ Bindings: Env }>()

benchVault.use('*', async (c, next) => {
  if (c.env.ENVIRONMENT !== 'dev' && c.env.ENVIRONMENT !== 'test') return c.text('not found', 404)
  await next()
})

benchVault.get('/__bench/vault/:layer/:op', async (c) => {
  const run = OPS[`${c.req.param('layer')}/${c.req.param('op')}`]
  if (!run) return c.text('not found', 404)
  const n = Math.min(Math.max(Number(c.req.query('n') ?? 1) | 0, 1), 50)
  fixture ??= prepare(c.env).catch((err: unknown) => {
    fixture = undefined
    throw err
  })
  const f = await fixture
  let ok = 0
  for (let i = 0; i < n; i++) if (await run(f)) ok++
  return c.json({ bytes: n * BENCH_DOCUMENT_BYTES, n, ok })
})
