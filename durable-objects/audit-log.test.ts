import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { audit, auditLog } from '../workers/compliance/audit'
import { call, tokenFor } from '../test/helpers'
import { entryHash, GENESIS_HASH, type AuditLog } from './audit-log'

const system = { env, actor: 'system:test' }

async function seedEntries(n: number) {
  for (let i = 0; i < n; i++) await audit(system, 'test.thing.touch', `thing:${i}`, { i, note: `entry ${i}` })
}

async function verifyViaApi() {
  const token = await tokenFor(['compliance_officer'])
  const res = await call('api.localhost', '/api/compliance/audit/verify', { token })
  expect(res.status).toBe(200)
  return (await res.json()) as { ok: boolean; entries: number; head_hash: string | null; first_broken: { seq: number; reason: string } | null }
}

function tamper(sql: string, ...args: SqlStorageValue[]) {
  return runInDurableObject(auditLog(env) as unknown as DurableObjectStub<AuditLog>, (_instance, state) => {
    state.storage.sql.exec(sql, ...args)
  })
}

describe('audit log', () => {
  it('chains every entry to the one before it', async () => {
    await seedEntries(3)
    const entries = await auditLog(env).list({ limit: 100 })
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH)
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash)
    for (const entry of entries) {
      const { hash, ...unsigned } = entry
      expect(entryHash(unsigned)).toBe(hash)
    }
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1))
  })

  it('serialises concurrent appends into one unbroken chain', async () => {
    await Promise.all(Array.from({ length: 25 }, (_, i) => audit(system, 'test.concurrent.append', `c:${i}`, { i })))
    const result = await auditLog(env).verify()
    expect(result.ok).toBe(true)
  })

  it('verifies a clean chain through the API', async () => {
    const result = await verifyViaApi()
    expect(result.ok).toBe(true)
    expect(result.first_broken).toBeNull()
    expect(result.head_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  /** Runs `body` against the log, then puts every entry back exactly as it was. */
  async function withTampering(body: () => Promise<void>) {
    const original = await auditLog(env).list({ limit: 1000 })
    try {
      await body()
    } finally {
      await tamper('DELETE FROM entries')
      for (const e of original) {
        await tamper(
          'INSERT INTO entries (seq, id, at_ms, action, subject, actor, actor_roles, request_id, brand, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          e.seq, e.id, e.atMs, e.action, e.subject, e.actor, JSON.stringify(e.actorRoles), e.requestId, e.brand, e.details, e.prevHash, e.hash,
        )
      }
      expect((await auditLog(env).verify()).ok).toBe(true)
    }
  }

  it('reports the first tampered entry: edited details', () =>
    withTampering(async () => {
      await tamper('UPDATE entries SET details = ? WHERE seq = 3', '{"i":2,"note":"rewritten"}')
      expect((await verifyViaApi()).first_broken).toMatchObject({ seq: 3, reason: 'hash_mismatch' })
    }))

  it('reports the next link when an attacker also recomputes the edited entry hash', () =>
    withTampering(async () => {
      const [entry] = await auditLog(env).list({ afterSeq: 1, limit: 1 })
      const { hash: _old, ...unsigned } = { ...entry!, actor: 'someone-else' }
      await tamper('UPDATE entries SET actor = ?, hash = ? WHERE seq = 2', 'someone-else', entryHash(unsigned))
      expect((await verifyViaApi()).first_broken).toMatchObject({ seq: 3, reason: 'prev_hash_mismatch' })
    }))

  it('reports a deleted entry as a gap', () =>
    withTampering(async () => {
      await tamper('DELETE FROM entries WHERE seq = 4')
      expect((await verifyViaApi()).first_broken).toMatchObject({ seq: 5, reason: 'sequence_gap' })
    }))

  it('lists entries by cursor and filter, to audit readers only', async () => {
    const token = await tokenFor(['admin'])
    const first = await call('api.localhost', '/api/compliance/audit?limit=2&action=test.thing.touch', { token })
    const page = (await first.json()) as { items: Array<{ seq: number; action: string; details: { i: number } }>; next_cursor: string | null }
    expect(page.items.map((e) => e.action)).toEqual(['test.thing.touch', 'test.thing.touch'])
    expect(page.items[0]!.details.i).toBe(0)
    expect(page.next_cursor).not.toBeNull()
    const second = (await (await call('api.localhost', `/api/compliance/audit?limit=2&action=test.thing.touch&cursor=${page.next_cursor}`, { token })).json()) as typeof page
    expect(second.items[0]!.seq).toBeGreaterThan(page.items[1]!.seq)

    expect((await call('api.localhost', '/api/compliance/audit', { token: await tokenFor(['fan']) })).status).toBe(403)
    expect((await call('api.localhost', '/api/compliance/audit')).status).toBe(401)
    const bad = await call('api.localhost', '/api/compliance/audit?cursor=garbage', { token })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('query.cursor')
  })
})
