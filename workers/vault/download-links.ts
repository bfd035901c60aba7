/**
 * Short-lived, single-use download links for vault documents: `GET /api/vault/downloads/{token}`
 * needs no bearer token (a browser follows it as a plain navigation), so the token itself carries
 * the authorisation that was checked when it was issued:
 *
 *   token = base64url(JSON claims) "." base64url(HMAC-SHA-256(link key, base64url(JSON claims)))
 *   claims = { v: 1, o: object id, u: the account it was issued to, p: purpose code,
 *              e: expiry (epoch s), n: 128-bit random nonce, bg?: 1 for break-glass }
 *   link key = derivedSecret(SIGNING_MASTER_KEY, "fanz/vault/download-link/v1")
 *
 * The key is used for nothing else (rotating the master key voids every open link, which live 60 s
 * anyway). The signature is checked with WebCrypto's HMAC verify (constant time) before a byte of
 * the claims is parsed. Single use: the nonce is claimed in the `IdempotencyKeys` Durable Object
 * (scope `vault-download:<nonce>`; its `begin` is atomic, so of two simultaneous redemptions exactly
 * one proceeds) and the record outlives the link's expiry.
 * @module
 */
import { z } from 'zod'
import { idempotencyShard } from '../../durable-objects/idempotency-keys'
import { base64url, fromBase64url, sha256Hex, utf8 } from '../lib/encoding'
import { derivedSecret } from '../lib/secret-box'
import { VAULT_PURPOSES } from './access'

/** How long a link may be followed. */
export const DOWNLOAD_LINK_TTL_S = 60
/** How long a redeemed nonce is remembered: well past the longest expiry, so a replay is refused as used, not only as expired. */
const NONCE_MEMORY_MS = 15 * 60 * 1000
const LABEL = 'fanz/vault/download-link/v1'

export const LinkClaims = z
  .object({
    v: z.literal(1),
    o: z.string().regex(/^vob_[0-9A-Za-z]{1,40}$/),
    u: z.string().min(1).max(80),
    p: z.enum(VAULT_PURPOSES),
    e: z.number().int().positive(),
    n: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    bg: z.literal(1).optional(),
  })
  .strict()
export type LinkClaims = z.infer<typeof LinkClaims>

const keys = new Map<string, Promise<CryptoKey>>()

function linkKey(masterKey: string): Promise<CryptoKey> {
  let key = keys.get(masterKey)
  if (!key) {
    key = derivedSecret(masterKey, LABEL).then((secret) => crypto.subtle.importKey('raw', fromBase64url(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']))
    keys.set(masterKey, key)
  }
  return key
}

/** Claims for a new link to `objectId`, issued to `userId`, expiring DOWNLOAD_LINK_TTL_S from `nowMs`. */
export function newLinkClaims(objectId: string, userId: string, purpose: LinkClaims['p'], nowMs = Date.now(), breakGlass = false): LinkClaims {
  return {
    v: 1,
    o: objectId,
    u: userId,
    p: purpose,
    e: Math.floor(nowMs / 1000) + DOWNLOAD_LINK_TTL_S,
    n: base64url(crypto.getRandomValues(new Uint8Array(16))),
    ...(breakGlass ? { bg: 1 as const } : {}),
  }
}

export async function signDownloadToken(masterKey: string, claims: LinkClaims): Promise<string> {
  const body = base64url(utf8(JSON.stringify(LinkClaims.parse(claims))))
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await linkKey(masterKey), utf8(body)))
  return `${body}.${base64url(mac)}`
}

export type TokenCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' }

/** Verifies signature, then shape, then expiry; consumes nothing. */
export async function verifyDownloadToken(masterKey: string, token: string, nowMs = Date.now()): Promise<TokenCheck> {
  const match = /^([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!match) return { ok: false, reason: 'malformed' }
  const [, body, mac] = match as unknown as [string, string, string]
  const valid = await crypto.subtle.verify('HMAC', await linkKey(masterKey), fromBase64url(mac), utf8(body))
  if (!valid) return { ok: false, reason: 'signature' }
  let parsed: z.ZodSafeParseResult<LinkClaims>
  try {
    parsed = LinkClaims.safeParse(JSON.parse(new TextDecoder().decode(fromBase64url(body))))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (!parsed.success) return { ok: false, reason: 'malformed' }
  if (parsed.data.e * 1000 <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: true, claims: parsed.data }
}

/** Claims the link's nonce; true the first time only (atomic across isolates). */
export async function redeemNonce(env: Pick<Env, 'IDEMPOTENCY'>, claims: LinkClaims, token: string, nowMs = Date.now()): Promise<boolean> {
  const scope = `vault-download:${claims.n}`
  const shard = idempotencyShard(env, scope)
  const begun = await shard.begin(scope, sha256Hex(token), nowMs, NONCE_MEMORY_MS)
  if (begun.kind !== 'proceed') return false
  // marked done at once: the record is the proof of use, not a response to replay
  await shard.complete(scope, begun.attempt, { status: 200, headers: [], bodyBase64: '' })
  return true
}
