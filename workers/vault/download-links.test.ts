import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { DOWNLOAD_LINK_TTL_S, newLinkClaims, redeemNonce, signDownloadToken, verifyDownloadToken } from './download-links'

const MASTER = 'a-test-master-key-that-is-long-enough-0123456789'

describe('download link tokens', () => {
  it('verify until expiry, bind every claim, and refuse another key', async () => {
    const now = Date.UTC(2026, 0, 1)
    const claims = newLinkClaims('vob_01JFANZ0000000000000000001', 'usr_01JFANZ0000000000000000001', 'inspection', now)
    expect(claims.e).toBe(now / 1000 + DOWNLOAD_LINK_TTL_S)
    const token = await signDownloadToken(MASTER, claims)
    expect(await verifyDownloadToken(MASTER, token, now + 59_000)).toEqual({ ok: true, claims })
    expect(await verifyDownloadToken(MASTER, token, now + 60_000)).toEqual({ ok: false, reason: 'expired' })
    expect(await verifyDownloadToken(`${MASTER}x`, token, now)).toEqual({ ok: false, reason: 'signature' })
    const [body, mac] = token.split('.') as [string, string]
    const flipped = `${body.slice(0, -1)}${body.at(-1) === 'A' ? 'B' : 'A'}.${mac}`
    expect((await verifyDownloadToken(MASTER, flipped, now)).ok).toBe(false)
    expect(await verifyDownloadToken(MASTER, 'x.y', now)).toEqual({ ok: false, reason: 'malformed' })
    expect(token).not.toContain(MASTER)
  })

  it('a nonce is redeemed once, even by two simultaneous requests', async () => {
    const claims = newLinkClaims('vob_01JFANZ0000000000000000002', 'usr_x', 'kyc_review')
    const token = await signDownloadToken(MASTER, claims)
    const results = await Promise.all([redeemNonce(env, claims, token), redeemNonce(env, claims, token), redeemNonce(env, claims, token)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await redeemNonce(env, claims, token)).toBe(false)
  })
})
