/**
 * Signed audit checkpoints: the hourly cron commits the log's head (size, hash) in a JWS signed by
 * the platform's active key and writes it to the exports bucket (bucket-locked in production), a
 * witness outside the AuditLog object. The hash chain alone cannot catch an attacker who rewrites
 * an entry and recomputes every later hash; a checkpoint written before the rewrite does.
 * @module
 */
import { CompactSign, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose'
import { AUDIT_CHECKPOINT_PREFIX, exportKeys } from '../../r2/keys'
import type { Config } from '../config'
import { canonicalJson } from '../lib/canonical-json'
import { fromBase64url, utf8 } from '../lib/encoding'
import { activeSigningKey, publishedKeys } from '../sso/keys'
import { auditLog } from './audit'

export const CHECKPOINT_LOG_ID = 'fanz-audit'
/** how many of the newest checkpoints a verification reads */
const VERIFY_WINDOW = 200

export interface CheckpointPayload {
  log: string
  size: number
  root: string
  ts: number
}

export interface CheckpointReport {
  checked: number
  /** first checkpoint whose committed hash the log no longer has */
  firstMismatch: { seq: number; reason: 'hash_mismatch' | 'missing_entry' | 'bad_signature' } | null
  /** checkpoints signed by keys no longer published: compared by hash only */
  unsignedChecked: number
}

/** Writes a checkpoint for the current head unless one exists for it; returns its size or null. */
export async function writeCheckpoint(env: Env, config: Config, nowMs = Date.now()): Promise<number | null> {
  const head = await auditLog(env).head()
  if (!head) return null
  const key = exportKeys.auditCheckpoint(head.seq)
  if (await env.EXPORTS.head(key)) return null
  const signingKey = await activeSigningKey(env.DB, config, nowMs)
  const payload: CheckpointPayload = { log: CHECKPOINT_LOG_ID, size: head.seq, root: head.hash, ts: Math.floor(nowMs / 1000) }
  const jws = await new CompactSign(utf8(canonicalJson(payload))).setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: 'checkpoint+jws' }).sign(signingKey.privateKey)
  await env.EXPORTS.put(key, jws, { httpMetadata: { contentType: 'application/jose' }, customMetadata: { size: String(head.seq), root: head.hash } })
  return head.seq
}

function payloadOf(jws: string): CheckpointPayload | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(fromBase64url(jws.split('.')[1] ?? ''))) as CheckpointPayload
    return value.log === CHECKPOINT_LOG_ID && Number.isInteger(value.size) && typeof value.root === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** Compares the newest checkpoints with the log: each committed head hash must still be there. */
export async function verifyCheckpoints(env: Env): Promise<CheckpointReport> {
  const listed = await env.EXPORTS.list({ prefix: AUDIT_CHECKPOINT_PREFIX, limit: 1000 })
  const keys = listed.objects.map((o) => o.key).sort().slice(-VERIFY_WINDOW)
  const jwks = createLocalJWKSet({ keys: await publishedKeys(env.DB, Date.now(), true) })
  const checkpoints: Array<{ seq: number; root: string; signed: boolean; valid: boolean }> = []
  for (const key of keys) {
    const jws = await (await env.EXPORTS.get(key))?.text()
    const payload = jws ? payloadOf(jws) : undefined
    if (!jws || !payload) {
      checkpoints.push({ seq: Number(key.slice(AUDIT_CHECKPOINT_PREFIX.length, -4)), root: '', signed: true, valid: false })
      continue
    }
    let signed = true
    let valid = true
    try {
      await compactVerify(jws, jwks, { algorithms: ['EdDSA'] })
    } catch {
      // a retired key may be gone from the JWKS: then the witness copy is compared by hash only
      const kid = decodeProtectedHeader(jws).kid
      signed = false
      valid = !(await publishedKeys(env.DB)).some((k) => k.kid === kid)
    }
    checkpoints.push({ seq: payload.size, root: payload.root, signed, valid })
  }
  const stored = new Map((await auditLog(env).hashesAt(checkpoints.map((c) => c.seq))).map((h) => [h.seq, h.hash]))
  let firstMismatch: CheckpointReport['firstMismatch'] = null
  for (const checkpoint of checkpoints.sort((a, b) => a.seq - b.seq)) {
    const reason = !checkpoint.valid ? 'bad_signature' : !stored.has(checkpoint.seq) ? 'missing_entry' : stored.get(checkpoint.seq) !== checkpoint.root ? 'hash_mismatch' : null
    if (reason) {
      firstMismatch = { seq: checkpoint.seq, reason }
      break
    }
  }
  return { checked: checkpoints.length, firstMismatch, unsignedChecked: checkpoints.filter((c) => !c.signed).length }
}
