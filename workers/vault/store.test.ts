import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { VaultDecryptError } from './envelope'
import { keyStatus, openSealed, openSealedJson, putSealed, putSealedJson, rewrapBatch, sealedObject } from './store'

const plain = new TextEncoder().encode('PASSPORT P<USAEXAMPLE<<JANE<<<<<<<< 1990-01-01')
const input = { recordType: 'kyc_verification', recordId: 'kyc_01JFANZ0000000000000000001', kind: 'id_document_front', contentType: 'image/jpeg', createdBy: 'usr_test' }

describe('vault store', () => {
  it('keeps only ciphertext in R2 and opens it again', async () => {
    const row = await putSealed(env, { ...input, bytes: plain, region: 'global' })
    const raw = new Uint8Array(await (await env.VAULT.get(row.r2Key))!.arrayBuffer())
    expect(new TextDecoder().decode(raw)).not.toContain('EXAMPLE')
    expect(new TextDecoder().decode(raw.subarray(0, 4))).toBe('FZV1')
    expect(row).toMatchObject({ bucket: 'VAULT', kekVersion: '2', byteLength: plain.length })
    expect(new TextDecoder().decode(await openSealed(env, row))).toBe(new TextDecoder().decode(plain))
  })

  it('puts EU subjects in the EU bucket', async () => {
    const row = await putSealedJson(env, { ...input, kind: 'record_json', region: 'eu', value: { legal_name: 'Jane Example' } })
    expect(row.bucket).toBe('VAULT_EU')
    expect(await env.VAULT.get(row.r2Key)).toBeNull()
    expect(await openSealedJson(env, row)).toEqual({ legal_name: 'Jane Example' })
  })

  it('refuses a ciphertext moved onto another record', async () => {
    const a = await putSealed(env, { ...input, bytes: plain, region: 'global' })
    const b = await putSealed(env, { ...input, recordId: 'kyc_01JFANZ0000000000000000002', bytes: new TextEncoder().encode('other'), region: 'global' })
    // an attacker with bucket access copies a's bytes over b's object
    await env.VAULT.put(b.r2Key, await (await env.VAULT.get(a.r2Key))!.arrayBuffer())
    await expect(openSealed(env, b)).rejects.toBeInstanceOf(VaultDecryptError)
  })

  it('rotation re-wraps every data key to the active version and leaves every document readable', async () => {
    const k1 = env.VAULT_KEKS.split(',').find((e) => e.startsWith('1:'))!
    const before = { ...env, VAULT_KEKS: k1 } as Env
    const old = await Promise.all([1, 2, 3].map((n) => putSealed(before, { ...input, recordId: `kyc_01JFANZ000000000000000000${n}`, bytes: new TextEncoder().encode(`doc ${n}`), region: 'global' })))
    expect(old.map((o) => o.kekVersion)).toEqual(['1', '1', '1'])
    const r2Before = await Promise.all(old.map(async (o) => new Uint8Array(await (await env.VAULT.get(o.r2Key))!.arrayBuffer())))

    expect((await keyStatus(env)).wrappedByVersion['1']).toBeGreaterThanOrEqual(3)
    let report = await rewrapBatch(env, 2)
    expect(report.rewrapped).toBe(2)
    while (report.remaining > 0) report = await rewrapBatch(env, 2)
    expect((await keyStatus(env)).wrappedByVersion['1']).toBeUndefined()

    for (const [i, o] of old.entries()) {
      const row = (await sealedObject(env, o.id))!
      expect(row.kekVersion).toBe('2')
      expect(row.rewrappedAtMs).not.toBeNull()
      // the document bytes were not touched
      expect(new Uint8Array(await (await env.VAULT.get(o.r2Key))!.arrayBuffer())).toEqual(r2Before[i])
      expect(new TextDecoder().decode(await openSealed(env, row))).toBe(`doc ${i + 1}`)
    }
  })
})
