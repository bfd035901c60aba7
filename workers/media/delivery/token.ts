/**
 * Delivery tokens: what a short-lived media URL carries. The URL needs no bearer header (an
 * `<img>` or an HLS player follows it), so the token holds the authorisation checked when it was
 * issued, bound to one viewer and one forensic mark:
 *
 *   token  = base64url(JSON claims) "." base64url(HMAC-SHA-256(delivery key, base64url(JSON claims)))
 *   claims = { v: 1, i: item id, u: viewer account, s: mark serial, k: 'image' | 'ab', e: expiry (epoch s),
 *              c?: country it was issued to, a?: 1 when the viewer's age verification was valid at issue }
 *   key    = derivedSecret(SIGNING_MASTER_KEY, "fanz/media/delivery/v1")
 *
 * Same shape as the vault's download links, without single use: a player fetches a playlist and
 * many segments with one token. The signature is checked (WebCrypto HMAC verify, constant time)
 * before a byte of the claims is parsed.
 * @module
 */
import { z } from 'zod'
import { ProblemError } from '../../edge/problem'
import { base64url, fromBase64url, utf8 } from '../../lib/encoding'
import { derivedSecret } from '../../lib/secret-box'

const LABEL = 'fanz/media/delivery/v1'

export const DeliveryClaims = z
  .object({
    v: z.literal(1),
    i: z.string().regex(/^med_[0-9A-Za-z]{1,40}$/),
    u: z.string().min(1).max(80),
    s: z.number().int().positive().max(0xffff_ffff),
    k: z.enum(['image', 'ab']),
    e: z.number().int().positive(),
    c: z.string().regex(/^[A-Z]{2}$/).optional(),
    a: z.literal(1).optional(),
  })
  .strict()
export type DeliveryClaims = z.infer<typeof DeliveryClaims>

const keys = new Map<string, Promise<CryptoKey>>()
function deliveryKey(masterKey: string): Promise<CryptoKey> {
  let key = keys.get(masterKey)
  if (!key) {
    key = derivedSecret(masterKey, LABEL).then((secret) => crypto.subtle.importKey('raw', fromBase64url(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']))
    keys.set(masterKey, key)
  }
  return key
}

export async function signDeliveryToken(env: Pick<Env, 'SIGNING_MASTER_KEY'>, claims: DeliveryClaims): Promise<string> {
  const body = base64url(utf8(JSON.stringify(DeliveryClaims.parse(claims))))
  const mac = await crypto.subtle.sign('HMAC', await deliveryKey(env.SIGNING_MASTER_KEY), utf8(body))
  return `${body}.${base64url(new Uint8Array(mac))}`
}

/** The claims of a valid, unexpired token; 403 for a forged or malformed one, 410 once expired. */
export async function verifyDeliveryToken(env: Pick<Env, 'SIGNING_MASTER_KEY'>, token: string, nowMs = Date.now()): Promise<DeliveryClaims> {
  const forged = () => new ProblemError('FORBIDDEN', { detail: 'This media link is not valid.' })
  const [body, mac, extra] = token.split('.')
  if (!body || !mac || extra !== undefined || body.length > 1024 || mac.length > 64) throw forged()
  let signature: Uint8Array
  try {
    signature = fromBase64url(mac)
  } catch {
    throw forged()
  }
  const ok = await crypto.subtle.verify('HMAC', await deliveryKey(env.SIGNING_MASTER_KEY), signature, utf8(body))
  if (!ok) throw forged()
  let parsed: DeliveryClaims
  try {
    parsed = DeliveryClaims.parse(JSON.parse(new TextDecoder().decode(fromBase64url(body))))
  } catch {
    throw forged()
  }
  if (parsed.e * 1000 <= nowMs) throw new ProblemError('GONE', { detail: 'This media link has expired; ask for a new one.' })
  return parsed
}
