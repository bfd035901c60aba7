import { env } from 'cloudflare:workers'
import { SignJWT, generateKeyPair } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import { getConfig } from '../config'
import { forgetVerifierCache, verifyAccessToken } from '../edge/auth'
import { call } from '../../test/helpers'
import { activeSigningKey, forgetCachedKeys, publishedKeys, RETIRED_KEY_GRACE_MS, rotateSigningKeys } from './keys'
import { signAccessToken } from './tokens'

const DAY = 86_400_000
const config = getConfig(env)
// a clock such that the rotation under test happened an hour ago (verification uses the real clock)
const T0 = Date.now() - getConfig(env).signingKeyRotateDays * DAY - 3_600_000
const verify = (token: string) => verifyAccessToken(env.DB, token, { issuer: config.issuer, audience: config.accessTokenAudience })

describe('signing-key store', () => {
  beforeEach(async () => {
    await env.DB.exec('DELETE FROM signing_keys')
    forgetCachedKeys()
    forgetVerifierCache()
  })

  it('bootstraps an active key and a published successor for each algorithm', async () => {
    const report = await rotateSigningKeys(env.DB, config, T0)
    expect(report.created).toHaveLength(4)
    const rows = await env.DB.prepare('SELECT alg, state FROM signing_keys ORDER BY alg, state').all<{ alg: string; state: string }>()
    expect(rows.results.map((r) => `${r.alg} ${r.state}`)).toEqual(['EdDSA active', 'EdDSA next', 'RS256 active', 'RS256 next'])
    const published = await publishedKeys(env.DB, T0, true)
    expect(published.map((k) => `${k.alg} ${k.kty}`).sort()).toEqual(['EdDSA OKP', 'EdDSA OKP', 'RS256 RSA', 'RS256 RSA'])
    expect((await activeSigningKey(env.DB, config, T0, 'RS256')).alg).toBe('RS256')
    expect((await activeSigningKey(env.DB, config, T0)).alg).toBe('EdDSA')
  })

  it('keeps private keys sealed at rest and bound to their kid', async () => {
    await rotateSigningKeys(env.DB, config, T0)
    const row = await env.DB.prepare("SELECT kid, public_jwk, private_jwk_enc FROM signing_keys WHERE state = 'active' AND alg = 'EdDSA'").first<{ kid: string; public_jwk: string; private_jwk_enc: string }>()
    expect(row!.private_jwk_enc).not.toContain('"d"')
    expect(JSON.parse(row!.public_jwk)).not.toHaveProperty('d')
    // a ciphertext moved to another kid does not decrypt (the kid is additional authenticated data)
    await env.DB.prepare("UPDATE signing_keys SET private_jwk_enc = (SELECT private_jwk_enc FROM signing_keys WHERE state = 'next' AND alg = 'EdDSA') WHERE state = 'active' AND alg = 'EdDSA'").run()
    forgetCachedKeys()
    await expect(activeSigningKey(env.DB, config, T0)).rejects.toThrow()
  })

  it('rotates after the configured period, keeps the old key published for its tokens, then drops it', async () => {
    await rotateSigningKeys(env.DB, config, T0)
    const before = await activeSigningKey(env.DB, config, T0)
    const { token } = await signAccessToken(env.DB, config, { subject: 'usr_old', roles: ['fan'], ttlSeconds: 3600 })

    expect((await rotateSigningKeys(env.DB, config, T0 + DAY)).activated).toEqual([])
    const report = await rotateSigningKeys(env.DB, config, T0 + config.signingKeyRotateDays * DAY)
    expect(report.retired).toContain(before.kid)
    expect(report.activated).toHaveLength(2)
    expect(report.created).toHaveLength(2)
    const after = await activeSigningKey(env.DB, config, T0 + config.signingKeyRotateDays * DAY)
    expect(report.activated).toContain(after.kid)

    forgetVerifierCache()
    expect(await verify(token)).toMatchObject({ ok: true })
    const kids = (await publishedKeys(env.DB, Date.now(), true)).map((k) => k.kid)
    expect(kids).toContain(before.kid)

    const later = Date.now() + RETIRED_KEY_GRACE_MS + DAY
    const cleanup = await rotateSigningKeys(env.DB, config, later)
    expect(cleanup.deleted).toContain(before.kid)
    forgetVerifierCache()
    expect(await verify(token)).toEqual({ ok: false, reason: 'unknown signing key' })
  })

  it('two concurrent bootstraps leave exactly one active key', async () => {
    await Promise.all([rotateSigningKeys(env.DB, config, T0), rotateSigningKeys(env.DB, config, T0), activeSigningKey(env.DB, config, T0)])
    const counts = await env.DB.prepare('SELECT alg, state, COUNT(*) AS n FROM signing_keys GROUP BY alg, state ORDER BY alg, state').all<{ alg: string; state: string; n: number }>()
    expect(counts.results).toEqual([
      { alg: 'EdDSA', state: 'active', n: 1 },
      { alg: 'EdDSA', state: 'next', n: 1 },
      { alg: 'RS256', state: 'active', n: 1 },
      { alg: 'RS256', state: 'next', n: 1 },
    ])
  })

  it('publishes the JWKS on the SSO host, public halves only', async () => {
    const res = await call('sso.localhost', '/.well-known/jwks.json')
    expect(res.status).toBe(200)
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> }
    expect(keys.length).toBeGreaterThanOrEqual(2)
    for (const key of keys) {
      if (key.alg === 'EdDSA') expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig' })
      else expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', e: 'AQAB', use: 'sig' })
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret)
    }
  })

  it('refuses tokens signed by a key it never published, or for another issuer or audience', async () => {
    await rotateSigningKeys(env.DB, config, T0)
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const forged = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'EdDSA', kid: 'key_forged' }).setIssuer(config.issuer).setAudience(config.accessTokenAudience).setSubject('usr_x').setExpirationTime('5m').sign(privateKey)
    expect(await verify(forged)).toEqual({ ok: false, reason: 'unknown signing key' })
    const key = await activeSigningKey(env.DB, config)
    const sign = (iss: string, aud: string) => new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).setIssuer(iss).setAudience(aud).setSubject('usr_x').setExpirationTime('5m').sign(key.privateKey)
    expect(await verify(await sign('https://evil.example', config.accessTokenAudience))).toMatchObject({ ok: false, reason: 'claim iss invalid' })
    expect(await verify(await sign(config.issuer, 'someone-else'))).toMatchObject({ ok: false, reason: 'claim aud invalid' })
    const expired = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).setIssuer(config.issuer).setAudience(config.accessTokenAudience).setSubject('usr_x').setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(key.privateKey)
    expect(await verify(expired)).toEqual({ ok: false, reason: 'token expired' })
  })
})
