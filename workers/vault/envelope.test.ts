import { describe, expect, it } from 'vitest'
import { base64url, utf8 } from '../lib/encoding'
import { newDataKey, openObject, rewrapDataKey, sealObject, unwrapDataKey, VaultDecryptError, wrapDataKey, type VaultContext } from './envelope'
import { keyringFrom } from './keyring'

const kekMaterial = () => base64url(crypto.getRandomValues(new Uint8Array(32)))
const ctx: VaultContext = { recordType: 'kyc_document', recordId: 'vdoc_01JFANZ0000000000000000001', objectId: 'v1' }

describe('vault envelope encryption', () => {
  it('round-trips a document and stores no plaintext', async () => {
    const keyring = keyringFrom(`1:${kekMaterial()}`)
    const dek = await newDataKey()
    const wrapped = await wrapDataKey(await keyring.kek('1'), dek, ctx)
    const plain = utf8('PASSPORT Jane Example DOB 1990-01-01 '.repeat(100))
    const sealed = await sealObject(dek, ctx, plain)
    expect(new TextDecoder().decode(sealed)).not.toContain('Jane Example')
    expect(sealed.length).toBe(plain.length + 4 + 12 + 16)
    const reopened = await unwrapDataKey(await keyring.kek('1'), wrapped, ctx)
    expect(new TextDecoder().decode(await openObject(reopened, ctx, sealed))).toBe(new TextDecoder().decode(plain))
  })

  it('refuses a ciphertext or a wrapped key moved to another record', async () => {
    const keyring = keyringFrom(`1:${kekMaterial()}`)
    const dek = await newDataKey()
    const wrapped = await wrapDataKey(await keyring.kek('1'), dek, ctx)
    const sealed = await sealObject(dek, ctx, utf8('secret'))
    const other = { ...ctx, recordId: 'vdoc_01JFANZ0000000000000000002' }
    await expect(openObject(dek, other, sealed)).rejects.toBeInstanceOf(VaultDecryptError)
    await expect(unwrapDataKey(await keyring.kek('1'), wrapped, other)).rejects.toBeInstanceOf(VaultDecryptError)
    const flipped = sealed.slice()
    flipped[flipped.length - 1]! ^= 1
    await expect(openObject(dek, ctx, flipped)).rejects.toBeInstanceOf(VaultDecryptError)
  })

  it('re-wraps a data key under a new KEK version; the document stays as it was', async () => {
    const v1 = kekMaterial()
    const before = keyringFrom(`1:${v1}`)
    const after = keyringFrom(`2:${kekMaterial()},1:${v1}`)
    const dek = await newDataKey()
    const sealed = await sealObject(dek, ctx, utf8('record'))
    const wrappedV1 = await wrapDataKey(await before.kek('1'), dek, ctx)
    const rewrapped = await rewrapDataKey(await after.kek('1'), await after.kek('2'), wrappedV1, ctx)
    expect(rewrapped).not.toBe(wrappedV1)
    await expect(unwrapDataKey(await after.kek('1'), rewrapped, ctx)).rejects.toBeInstanceOf(VaultDecryptError)
    expect(new TextDecoder().decode(await openObject(await unwrapDataKey(await after.kek('2'), rewrapped, ctx), ctx, sealed))).toBe('record')
  })

  it('refuses a malformed keyring without echoing it', () => {
    expect(() => keyringFrom('1:short')).toThrow(/VAULT_KEKS is not a valid keyring: entry 1/)
    expect(() => keyringFrom('1:short')).not.toThrow(/short/)
    const material = kekMaterial()
    expect(() => keyringFrom(`1:${material},1:${material}`)).toThrow(/version 1 appears twice/)
    expect(keyringFrom(`3:${material},1:${kekMaterial()}`)).toMatchObject({ active: '3', versions: ['1', '3'] })
  })
})
