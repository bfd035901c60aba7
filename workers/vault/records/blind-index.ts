/**
 * Blind indexes of performer names: HMAC-SHA-256 of the normalised name under a key derived from
 * SIGNING_MASTER_KEY for this use only. D1 can answer "which record has this exact legal name or
 * alias" without ever holding a name; the names stay in the sealed record versions.
 * @module
 */
import { base64url, utf8 } from '../../lib/encoding'
import { derivedSecret } from '../../lib/secret-box'
import { normaliseName, type PerformerRecordContent } from './content'

const LABEL = 'fanz/vault/2257/performer-name-index/v1'
const keys = new Map<string, Promise<CryptoKey>>()

function indexKey(masterKey: string): Promise<CryptoKey> {
  let key = keys.get(masterKey)
  if (!key) {
    key = derivedSecret(masterKey, LABEL).then((secret) => crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']))
    key.catch(() => keys.delete(masterKey))
    keys.set(masterKey, key)
  }
  return key
}

export async function blindIndex(masterKey: string, name: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await indexKey(masterKey), utf8(normaliseName(name)))))
}

export interface NameIndexEntry {
  kind: 'legal_name' | 'alias'
  blindIndex: string
}

/** The searchable forms of a record: "first last", "first middle last", and each alias. */
export async function indexEntries(masterKey: string, content: PerformerRecordContent): Promise<NameIndexEntry[]> {
  const { first, middle, last } = content.legal_name
  const legal = new Set([`${first} ${last}`, ...(middle ? [`${first} ${middle} ${last}`] : [])])
  const out: NameIndexEntry[] = []
  for (const name of legal) out.push({ kind: 'legal_name', blindIndex: await blindIndex(masterKey, name) })
  for (const alias of content.aliases) out.push({ kind: 'alias', blindIndex: await blindIndex(masterKey, alias) })
  return out
}
