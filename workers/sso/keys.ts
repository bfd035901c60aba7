/**
 * The signing-key store: Ed25519 key pairs in D1, private halves sealed with AES-256-GCM under a key
 * derived (HKDF) from the SIGNING_MASTER_KEY secret, the kid bound in as additional data.
 *
 * Lifecycle (OIDC Core §10.1.1): a `next` key is published in the JWKS before it ever signs; the
 * hourly cron promotes it once the active key is older than SIGNING_KEY_ROTATE_DAYS; the old key is
 * `retired` but stays published until every token it signed has expired, then it is deleted.
 * @module
 */
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { and, eq, lt } from 'drizzle-orm'
import { signingKeys } from '../../d1/schema'
import type { Config } from '../config'
import { db } from '../lib/db'
import { utf8 } from '../lib/encoding'
import { newId } from '../lib/ids'
import { sealSecret, unsealSecret, type SecretBoxPurpose } from '../lib/secret-box'

/** Access tokens (and everything the platform verifies itself) are EdDSA. */
export const SIGNING_ALG = 'EdDSA'
/**
 * Every algorithm that has its own key pair and rotation. RS256 exists for ID tokens of clients
 * that ask for it: OIDC Discovery §3 requires an OP to support RS256, and many relying-party
 * libraries assume it. Each algorithm keeps its own next -> active -> retired cycle.
 */
export const SIGNING_ALGS = ['EdDSA', 'RS256'] as const
export type SigningAlg = (typeof SIGNING_ALGS)[number]
/** how long after retirement a key stays in the JWKS: longest token lifetime plus clock skew */
export const RETIRED_KEY_GRACE_MS = 24 * 3_600_000
const JWKS_CACHE_MS = 60_000

export interface PublicJwk extends JWK {
  kid: string
  alg: string
  use: 'sig'
}

export interface SigningKey {
  kid: string
  alg: string
  privateKey: CryptoKey
}

export interface RotationReport {
  created: string[]
  activated: string[]
  retired: string[]
  deleted: string[]
}

type SigningKeyRow = typeof signingKeys.$inferSelect

const privateKeys = new Map<string, Promise<CryptoKey>>()
let jwksCache: { atMs: number; keys: PublicJwk[] } | undefined

/** Private JWKs are sealed under their own derived key; the kid is the additional data. */
const PRIVATE_JWK_WRAP: SecretBoxPurpose = { salt: 'fanz/signing-keys', info: 'private-jwk-wrap/v1' }

function seal(masterKey: string, kid: string, jwk: JWK): Promise<string> {
  return sealSecret(masterKey, PRIVATE_JWK_WRAP, kid, utf8(JSON.stringify(jwk)))
}

async function unseal(masterKey: string, kid: string, sealed: string): Promise<JWK> {
  return JSON.parse(new TextDecoder().decode(await unsealSecret(masterKey, PRIVATE_JWK_WRAP, kid, sealed))) as JWK
}

async function newKeyRow(config: Config, state: 'next' | 'active', nowMs: number, alg: SigningAlg): Promise<SigningKeyRow> {
  const kid = newId('signingKey', nowMs)
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { modulusLength: 2048, extractable: true })
  const publicJwk: PublicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return {
    kid,
    alg,
    state,
    publicJwk: JSON.stringify(publicJwk),
    privateJwkEnc: await seal(config.signingMasterKey, kid, await exportJWK(privateKey)),
    createdAtMs: nowMs,
    activatedAtMs: state === 'active' ? nowMs : null,
    retiredAtMs: null,
    expiresAtMs: null,
  }
}

/**
 * Inserts `row` only if no key of its algorithm in `state` exists yet: one statement, so two
 * isolates bootstrapping at once cannot both win.
 */
async function insertIfNone(d1: D1Database, row: SigningKeyRow): Promise<boolean> {
  const result = await d1
    .prepare(
      `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at_ms, activated_at_ms)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = ?3 AND alg = ?2)`,
    )
    .bind(row.kid, row.alg, row.state, row.publicJwk, row.privateJwkEnc, row.createdAtMs, row.activatedAtMs)
    .run()
  return result.meta.changes === 1
}

/**
 * Which key signs, per algorithm, remembered for ACTIVE_CACHE_MS: every token issue used to read
 * D1 for it. After a rotation an isolate may sign with the previous key for that long more, which
 * is safe: a retired key stays published for RETIRED_KEY_GRACE_MS.
 */
const activeRows = new Map<SigningAlg, { atMs: number; row: SigningKeyRow }>()
const ACTIVE_CACHE_MS = 60_000

/** The key of `alg` that signs now; bootstraps the first key pair on a fresh database. */
export async function activeSigningKey(d1: D1Database, config: Config, nowMs = Date.now(), alg: SigningAlg = SIGNING_ALG): Promise<SigningKey> {
  const activeOf = async () => {
    const found = await db(d1).select().from(signingKeys).where(and(eq(signingKeys.state, 'active'), eq(signingKeys.alg, alg))).get()
    if (found) activeRows.set(alg, { atMs: Date.now(), row: found })
    return found
  }
  const cached = activeRows.get(alg)
  let row = cached && Date.now() - cached.atMs < ACTIVE_CACHE_MS ? cached.row : await activeOf()
  if (!row) {
    await insertIfNone(d1, await newKeyRow(config, 'active', nowMs, alg))
    jwksCache = undefined
    row = await activeOf()
    if (!row) throw new Error('signing key bootstrap failed')
  }
  const { kid, privateJwkEnc } = row
  let privateKey = privateKeys.get(kid)
  if (!privateKey) {
    privateKey = unseal(config.signingMasterKey, kid, privateJwkEnc).then((jwk) => importJWK(jwk, row.alg) as Promise<CryptoKey>)
    privateKeys.set(kid, privateKey)
  }
  return { kid, alg: row.alg, privateKey: await privateKey }
}

/** Public keys to publish: next, active, and retired keys whose tokens may still be live. */
export async function publishedKeys(d1: D1Database, nowMs = Date.now(), fresh = false): Promise<PublicJwk[]> {
  if (!fresh && jwksCache && nowMs - jwksCache.atMs < JWKS_CACHE_MS) return jwksCache.keys
  const rows = await db(d1).select().from(signingKeys).all()
  const keys = rows
    .filter((r) => r.state !== 'retired' || (r.expiresAtMs ?? 0) > nowMs)
    .sort((a, b) => a.createdAtMs - b.createdAtMs)
    .map((r) => JSON.parse(r.publicJwk) as PublicJwk)
  jwksCache = { atMs: nowMs, keys }
  return keys
}

export function forgetCachedKeys(): void {
  jwksCache = undefined
  activeRows.clear()
}

/**
 * One rotation step for every algorithm, run by the hourly cron and safe to run twice
 * concurrently: every change is a conditional update inside one D1 batch.
 */
export async function rotateSigningKeys(d1: D1Database, config: Config, nowMs = Date.now()): Promise<RotationReport> {
  const report: RotationReport = { created: [], activated: [], retired: [], deleted: [] }
  const rows = await db(d1).select().from(signingKeys).all()
  for (const alg of SIGNING_ALGS) await rotateAlg(d1, config, alg, rows.filter((r) => r.alg === alg), nowMs, report)
  jwksCache = undefined
  activeRows.clear()
  return report
}

async function rotateAlg(d1: D1Database, config: Config, alg: SigningAlg, rows: SigningKeyRow[], nowMs: number, report: RotationReport): Promise<void> {
  const handle = db(d1)
  const active = rows.find((r) => r.state === 'active')
  const next = rows.find((r) => r.state === 'next')

  if (!active) {
    const row = await newKeyRow(config, 'active', nowMs, alg)
    if (await insertIfNone(d1, row)) report.created.push(row.kid)
  } else if (next && nowMs - (active.activatedAtMs ?? active.createdAtMs) >= config.signingKeyRotateDays * 86_400_000) {
    const results = await handle.batch([
      handle
        .update(signingKeys)
        .set({ state: 'retired', retiredAtMs: nowMs, expiresAtMs: nowMs + RETIRED_KEY_GRACE_MS })
        .where(and(eq(signingKeys.kid, active.kid), eq(signingKeys.state, 'active'))),
      handle
        .update(signingKeys)
        .set({ state: 'active', activatedAtMs: nowMs })
        .where(and(eq(signingKeys.kid, next.kid), eq(signingKeys.state, 'next'))),
    ])
    if (results[0].meta.changes === 1) {
      report.retired.push(active.kid)
      report.activated.push(next.kid)
    }
  }

  // Always keep a published successor, so relying parties have cached it before it signs.
  const nextRow = await newKeyRow(config, 'next', nowMs, alg)
  if (await insertIfNone(d1, nextRow)) report.created.push(nextRow.kid)

  const expired = rows.filter((r) => r.state === 'retired' && (r.expiresAtMs ?? 0) <= nowMs)
  if (expired.length) {
    await handle.delete(signingKeys).where(and(eq(signingKeys.alg, alg), eq(signingKeys.state, 'retired'), lt(signingKeys.expiresAtMs, nowMs + 1)))
    report.deleted.push(...expired.map((r) => r.kid))
  }
}
