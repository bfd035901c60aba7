import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AuditLog } from '../../durable-objects/audit-log'
import { entryHash } from '../../durable-objects/audit-log'
import { getConfig } from '../config'
import { AUDIT_CHECKPOINT_PREFIX, exportKeys } from '../../r2/keys'
import { call, tokenFor } from '../../test/helpers'
import { audit, auditLog } from './audit'
import { verifyCheckpoints, writeCheckpoint } from './checkpoints'

const config = getConfig(env)

async function verify() {
  const res = await call('api.localhost', '/api/compliance/audit/verify', { token: await tokenFor(['compliance_officer']) })
  return (await res.json()) as { ok: boolean; first_broken: { seq: number; reason: string } | null; checkpoints: { checked: number } }
}

describe('signed audit checkpoints', () => {
  beforeAll(async () => {
    for (let i = 0; i < 4; i++) await audit({ env, actor: 'system:test' }, 'test.checkpoint.entry', `thing:${i}`, { i })
  })

  it('commits the head in a signed JWS in the exports bucket, once per head', async () => {
    const size = await writeCheckpoint(env, config)
    const head = await auditLog(env).head()
    expect(size).toBe(head!.seq)
    expect(await writeCheckpoint(env, config)).toBeNull()
    const object = await env.EXPORTS.get(exportKeys.auditCheckpoint(size!))
    const jws = await object!.text()
    expect(jws.split('.')).toHaveLength(3)
    expect(object!.customMetadata).toEqual({ size: String(size), root: head!.hash })
    expect(await verifyCheckpoints(env)).toEqual({ checked: 1, firstMismatch: null, unsignedChecked: 0 })
  })

  it('catches a rewrite that recomputed every hash after the edited entry', async () => {
    expect((await verify()).ok).toBe(true)
    // the attacker edits entry 2 and re-chains everything after it, so the chain itself verifies
    await runInDurableObject(auditLog(env) as unknown as DurableObjectStub<AuditLog>, async (instance: AuditLog, state) => {
      const entries = instance.list({ limit: 1000 })
      let prev = entries[0]!.hash
      for (const entry of entries.slice(1)) {
        const edited = entry.seq === 2 ? { ...entry, details: '{"i":99}' } : entry
        const { hash: _old, ...unsigned } = { ...edited, prevHash: prev }
        const hash = entryHash(unsigned)
        state.storage.sql.exec('UPDATE entries SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?', unsigned.details, prev, hash, entry.seq)
        prev = hash
      }
    })
    expect((await auditLog(env).verify()).ok).toBe(true)
    const result = await verify()
    expect(result.ok).toBe(false)
    expect(result.first_broken).toMatchObject({ reason: 'checkpoint_mismatch' })
    expect(result.checkpoints.checked).toBe(1)
  })

  it('reports a forged checkpoint', async () => {
    const key = `${AUDIT_CHECKPOINT_PREFIX}999999999999.jws`
    const real = await (await env.EXPORTS.list({ prefix: AUDIT_CHECKPOINT_PREFIX })).objects[0]!
    const jws = await (await env.EXPORTS.get(real.key))!.text()
    const [header, , signature] = jws.split('.')
    const payload = btoa(JSON.stringify({ log: 'fanz-audit', size: 1, root: 'f'.repeat(64), ts: 1 })).replaceAll('=', '').replaceAll('+', '-').replaceAll('/', '_')
    await env.EXPORTS.put(key, `${header}.${payload}.${signature}`)
    expect((await verifyCheckpoints(env)).firstMismatch).toEqual({ seq: 1, reason: 'bad_signature' })
    await env.EXPORTS.delete(key)
  })
})
