import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../index'
import { call, cf, tokenFor } from '../../../test/helpers'
import { auditLog } from '../../compliance/audit'
import { openSealed, putSealed, sealedObject } from '../store'
import { API, createCreator, idempotencyKey, jpeg, linkFor, strong } from '../documents/test-support'
import { rewrapJob } from './rewrap'

type KeyStatus = { active: string; versions: string[]; data_keys_by_version: Record<string, number>; pending_rewrap: number; droppable: string[]; missing: string[]; last_rewrap_at: string | null }

/** The keyring before rotation: only version 1 (tests run with `2:...,1:...`, 2 active). */
const beforeRotation = { ...env, VAULT_KEKS: env.VAULT_KEKS.split(',').find((e) => e.startsWith('1:'))! } as Env

/** `call`, through the same Worker, with another env (the deployment before the new KEK was prepended). */
async function callWith(e: Env, path: string, init: { method: string; token: string; headers: Record<string, string>; body: Uint8Array }): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('host', API)
  headers.set('authorization', `Bearer ${init.token}`)
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(`http://${API}${path}`, { method: init.method, headers, body: init.body, cf: cf('US', 'CA') }) as Request<unknown, IncomingRequestCfProperties>, e, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const status = async (token: string) => (await (await call(API, '/api/vault/keys', { token })).json()) as KeyStatus

describe('/api/vault/keys', () => {
  it('is for super_admin only; rewrap also needs a fresh two-factor sign-in', async () => {
    for (const role of ['admin', 'compliance_officer', 'custodian', 'creator'] as const) expect((await call(API, '/api/vault/keys', { token: await tokenFor([role]) })).status).toBe(403)
    const res = await call(API, '/api/vault/keys', { token: await tokenFor(['super_admin']) })
    expect(res.status).toBe(200)
    const body = (await res.json()) as KeyStatus
    expect(body).toMatchObject({ active: '2', versions: ['1', '2'], missing: [] })
    expect(JSON.stringify(body)).not.toMatch(/[A-Za-z0-9_-]{43}/)
    const weak = await call(API, '/api/vault/keys/rewrap', { token: await tokenFor(['super_admin']), headers: { 'idempotency-key': idempotencyKey() }, body: {} })
    expect(weak.status).toBe(401)
  })

  it('rotation through the API leaves every uploaded document downloadable with identical bytes', async () => {
    const officer = await strong(['compliance_officer'])
    const creator = await createCreator()
    // uploaded while VAULT_KEKS held version 1 only
    const docs: Array<{ id: string; bytes: Uint8Array }> = []
    for (const n of [1, 2, 3]) {
      const bytes = jpeg(`ROTATION DOC ${n} `)
      const res = await callWith(beforeRotation, `/api/vault/documents?subject_type=creator&subject_id=${creator}&kind=id_document_front`, {
        method: 'POST',
        token: officer,
        headers: { 'content-type': 'image/jpeg', 'idempotency-key': idempotencyKey() },
        body: bytes,
      })
      expect(res.status).toBe(201)
      docs.push({ id: ((await res.json()) as { id: string }).id, bytes })
    }
    const r2Before = await Promise.all(docs.map(async (d) => new Uint8Array(await (await env.VAULT.get(`creator_document/${creator}/${d.id}`))!.arrayBuffer())))

    // the new version is deployed (env: `2:...,1:...`): version 1 still wraps them
    const admin = await strong(['super_admin'])
    const before = await status(admin)
    expect(before.data_keys_by_version['1']).toBeGreaterThanOrEqual(3)
    expect(before.droppable).toEqual([])
    expect(before.pending_rewrap).toBe(before.data_keys_by_version['1'])

    const res = await call(API, '/api/vault/keys/rewrap', { token: admin, headers: { 'idempotency-key': idempotencyKey() }, body: { budget_ms: 20_000 } })
    expect(res.status).toBe(200)
    const report = (await res.json()) as { rewrapped: number; remaining: number; status: KeyStatus }
    expect(report.rewrapped).toBe(before.pending_rewrap)
    expect(report.remaining).toBe(0)
    expect(report.status.data_keys_by_version['1']).toBeUndefined()
    expect(report.status.droppable).toEqual(['1'])
    expect(report.status.last_rewrap_at).not.toBeNull()

    for (const [i, d] of docs.entries()) {
      // the ciphertext was not touched; only the wrapped key changed
      expect(new Uint8Array(await (await env.VAULT.get(`creator_document/${creator}/${d.id}`))!.arrayBuffer())).toEqual(r2Before[i])
      const download = await call(API, await linkFor(officer, d.id))
      expect(download.status).toBe(200)
      expect(new Uint8Array(await download.arrayBuffer())).toEqual(d.bytes)
    }
    // ... and they open under version 2 alone, so version 1 can leave the secret
    const afterDrop = { ...env, VAULT_KEKS: env.VAULT_KEKS.split(',').find((e) => e.startsWith('2:'))! } as Env
    for (const d of docs) expect(await openSealed(afterDrop, (await sealedObject(env, d.id))!)).toEqual(d.bytes)

    const [entry] = (await auditLog(env).list({ action: 'vault.keys.rewrap', limit: 50 })).filter((e) => JSON.parse(e.details).trigger === 'api')
    expect(JSON.parse(entry!.details)).toMatchObject({ rewrapped: before.pending_rewrap, remaining: 0, active: '2' })
  })

  it('the hourly job re-wraps what is left and audits it as system:cron; with nothing to do it writes nothing', async () => {
    const rows = await Promise.all(
      [1, 2].map((n) =>
        putSealed(beforeRotation, { recordType: 'creator_document', recordId: 'crt_01JFANZ0000000000000000101', kind: 'selfie', contentType: 'image/jpeg', bytes: jpeg(`CRON ${n}`), region: 'global', createdBy: 'usr_test' }),
      ),
    )
    expect(rows.map((r) => r.kekVersion)).toEqual(['1', '1'])
    const report = await rewrapJob(env)
    expect(report).toMatchObject({ rewrapped: 2, remaining: 0 })
    const cron = (await auditLog(env).list({ action: 'vault.keys.rewrap', actor: 'system:cron', limit: 50 })).map((e) => JSON.parse(e.details) as Record<string, unknown>)
    expect(cron).toHaveLength(1)
    expect(cron[0]).toMatchObject({ rewrapped: 2, trigger: 'cron' })
    expect(await rewrapJob(env)).toMatchObject({ rewrapped: 0, remaining: 0 })
    expect(await auditLog(env).list({ action: 'vault.keys.rewrap', actor: 'system:cron', limit: 50 })).toHaveLength(1)
  })
})
