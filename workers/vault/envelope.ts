/**
 * Envelope encryption for HubVault: every record and document gets its own data key (DEK,
 * AES-256-GCM, random), and only the DEK wrapped by a key-encryption key (KEK) is stored. Rotating a
 * KEK re-wraps DEKs (a few bytes each) and never touches the documents.
 *
 * Both layers authenticate a context string naming what the bytes belong to (record type, record
 * id, object id): a ciphertext or a wrapped key copied onto another record fails to open. DEKs are
 * wrapped with AES-GCM rather than AES-KW because AES-KW cannot authenticate such a context.
 *
 * Object format in R2 (documented in r2/vault/storage-schema.md):
 *   "FZV1" (4 bytes) || iv (12 bytes) || AES-256-GCM(DEK, iv, aad = "fanz-vault/object/v1|" + context)(plaintext) incl. 16-byte tag
 * Wrapped DEK (in D1): base64url(iv(12) || AES-256-GCM(KEK, iv, aad = "fanz-vault/dek/v1|" + context)(DEK) incl. tag)
 * @module
 */
import { base64url, fromBase64url, utf8 } from '../lib/encoding'

const MAGIC = utf8('FZV1')
const IV_BYTES = 12
const TAG_BYTES = 16
export const HEADER_BYTES = MAGIC.length + IV_BYTES

/** What a ciphertext belongs to; authenticated on both layers. */
export interface VaultContext {
  /** e.g. `kyc_document`, `performer_record`, `age_verification` */
  recordType: string
  recordId: string
  /** the document or version within the record (the record itself: its own id) */
  objectId: string
}

export function contextString(context: VaultContext): string {
  for (const part of [context.recordType, context.recordId, context.objectId]) {
    // the separator must not be forgeable from inside a part
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(part)) throw new Error(`vault context parts are 1-128 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(part)}`)
  }
  return `${context.recordType}|${context.recordId}|${context.objectId}`
}

/** A fresh data key (raw bytes are needed once, to wrap it; afterwards it lives only wrapped). */
export async function newDataKey(): Promise<CryptoKey> {
  return (await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt'])) as CryptoKey
}

async function gcm(op: 'encrypt' | 'decrypt', key: CryptoKey, iv: Uint8Array, aad: string, data: Uint8Array): Promise<Uint8Array> {
  const params = { name: 'AES-GCM', iv, additionalData: utf8(aad), tagLength: TAG_BYTES * 8 }
  return new Uint8Array(op === 'encrypt' ? await crypto.subtle.encrypt(params, key, data) : await crypto.subtle.decrypt(params, key, data))
}

/** Wraps `dek` (a fresh, extractable key of `newDataKey`) under `kek` for `context`. */
export async function wrapDataKey(kek: CryptoKey, dek: CryptoKey, context: VaultContext): Promise<string> {
  return wrapRaw(kek, new Uint8Array((await crypto.subtle.exportKey('raw', dek)) as ArrayBuffer), context)
}

async function wrapRaw(kek: CryptoKey, raw: Uint8Array, context: VaultContext): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await gcm('encrypt', kek, iv, `fanz-vault/dek/v1|${contextString(context)}`, raw)
  raw.fill(0)
  const out = new Uint8Array(IV_BYTES + sealed.length)
  out.set(iv)
  out.set(sealed, IV_BYTES)
  return base64url(out)
}

async function unwrapRaw(kek: CryptoKey, wrapped: string, context: VaultContext): Promise<Uint8Array> {
  const bytes = fromBase64url(wrapped)
  if (bytes.length !== IV_BYTES + 32 + TAG_BYTES) throw new VaultDecryptError('wrapped data key has the wrong length')
  try {
    return await gcm('decrypt', kek, bytes.subarray(0, IV_BYTES), `fanz-vault/dek/v1|${contextString(context)}`, bytes.subarray(IV_BYTES))
  } catch {
    throw new VaultDecryptError('the data key does not open under this key-encryption key and context')
  }
}

/** Opens a wrapped DEK (non-extractable); rejects when the KEK, the context or any byte differs. */
export async function unwrapDataKey(kek: CryptoKey, wrapped: string, context: VaultContext): Promise<CryptoKey> {
  const raw = await unwrapRaw(kek, wrapped, context)
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  raw.fill(0)
  return key
}

/** Key rotation: the same DEK, wrapped under another KEK; the document is not touched. */
export async function rewrapDataKey(from: CryptoKey, to: CryptoKey, wrapped: string, context: VaultContext): Promise<string> {
  return wrapRaw(to, await unwrapRaw(from, wrapped, context), context)
}

/** Encrypts a document under its DEK: the bytes that go to R2. */
export async function sealObject(dek: CryptoKey, context: VaultContext, plaintext: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await gcm('encrypt', dek, iv, `fanz-vault/object/v1|${contextString(context)}`, plaintext)
  const out = new Uint8Array(HEADER_BYTES + sealed.length)
  out.set(MAGIC)
  out.set(iv, MAGIC.length)
  out.set(sealed, HEADER_BYTES)
  return out
}

/** Decrypts R2 bytes of `sealObject`; rejects when the DEK, the context or any byte differs. */
export async function openObject(dek: CryptoKey, context: VaultContext, stored: Uint8Array): Promise<Uint8Array> {
  if (stored.length < HEADER_BYTES + TAG_BYTES || !MAGIC.every((b, i) => stored[i] === b)) throw new VaultDecryptError('not a vault object')
  try {
    return await gcm('decrypt', dek, stored.subarray(MAGIC.length, HEADER_BYTES), `fanz-vault/object/v1|${contextString(context)}`, stored.subarray(HEADER_BYTES))
  } catch {
    throw new VaultDecryptError('the object does not open under this data key and context')
  }
}

/** Ciphertext that does not open: tampered, moved to another record, or the wrong key. */
export class VaultDecryptError extends Error {
  override name = 'VaultDecryptError'
}
