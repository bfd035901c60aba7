import { describe, expect, it } from 'vitest'
import { base64url, utf8 } from '../../lib/encoding'
import { challengeFor } from '../oauth/pkce'
import { emailVerifiedClaim, toProfile, UpstreamProfileError } from './profile'
import type { FlowSecrets } from './providers/adapter'
import { appleAdapter, appleUserName, pkcs8FromPem } from './providers/apple'
import { facebookAdapter } from './providers/facebook'
import { googleAdapter } from './providers/google'
import { checkedIdTokenClaims } from './providers/id-token'
import { xAdapter } from './providers/x'
import { flowCookieOptions } from './sign-in'
import { SocialButtons } from './ui'

const FLOW: FlowSecrets = { state: 'state-123', codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', nonce: 'nonce-456' }
const redirect = (p: string) => `https://sso.fanz.network/social/${p}/callback`

async function applePem(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
  const der = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer)
  const b64 = btoa(String.fromCharCode(...der))
  return `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----`
}

/** An unsigned JWT with these claims (signature irrelevant: see id-token.ts). */
function idToken(claims: Record<string, unknown>): string {
  return `${base64url(utf8(JSON.stringify({ alg: 'RS256', typ: 'JWT' })))}.${base64url(utf8(JSON.stringify(claims)))}.c2ln`
}

describe('authorization URLs of the real adapters', () => {
  it('Google: OIDC endpoint, PKCE S256, nonce, openid email profile', () => {
    const url = googleAdapter({ clientId: 'g-client', clientSecret: 'g-secret' }, redirect('google')).authorizationUrl(FLOW)
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth')
    const q = Object.fromEntries(url.searchParams)
    expect(q).toMatchObject({
      response_type: 'code',
      client_id: 'g-client',
      redirect_uri: redirect('google'),
      state: FLOW.state,
      code_challenge_method: 'S256',
      code_challenge: challengeFor(FLOW.codeVerifier),
      scope: 'openid email profile',
      nonce: FLOW.nonce,
    })
    expect(url.searchParams.has('client_secret')).toBe(false)
  })

  it('Apple: response_mode=form_post with name and email scopes, nonce', async () => {
    const adapter = appleAdapter({ clientId: 'network.fanz.sso', teamId: 'TEAM123456', keyId: 'KEY1234567', privateKeyPem: await applePem() }, redirect('apple'))
    expect(adapter.formPost).toBe(true)
    const url = adapter.authorizationUrl(FLOW)
    expect(`${url.origin}${url.pathname}`).toBe('https://appleid.apple.com/auth/authorize')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'network.fanz.sso',
      state: FLOW.state,
      scope: 'name email',
      redirect_uri: redirect('apple'),
      response_mode: 'form_post',
      nonce: FLOW.nonce,
    })
  })

  it('Facebook: dialog endpoint with email scope', () => {
    const url = facebookAdapter({ clientId: 'fb-client', clientSecret: 'fb-secret' }, redirect('facebook')).authorizationUrl(FLOW)
    expect(`${url.origin}${url.pathname}`).toBe('https://www.facebook.com/v16.0/dialog/oauth')
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: 'fb-client', redirect_uri: redirect('facebook'), state: FLOW.state, scope: 'email public_profile' })
  })

  it('X: OAuth 2.0 endpoint with PKCE S256', () => {
    const url = xAdapter({ clientId: 'x-client', clientSecret: 'x-secret' }, redirect('x')).authorizationUrl(FLOW)
    expect(`${url.origin}${url.pathname}`).toBe('https://twitter.com/i/oauth2/authorize')
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'x-client',
      redirect_uri: redirect('x'),
      state: FLOW.state,
      code_challenge_method: 'S256',
      code_challenge: challengeFor(FLOW.codeVerifier),
      scope: 'users.read tweet.read',
    })
  })

  it('the state cookie of a form_post provider is SameSite=None; Secure outside dev, Lax in dev', () => {
    expect(flowCookieOptions({ id: 'apple', formPost: true }, false)).toEqual({ path: '/social/apple/callback', sameSite: 'None', secure: true })
    expect(flowCookieOptions({ id: 'apple', formPost: true }, true)).toEqual({ path: '/social/apple/callback', sameSite: 'Lax' })
    expect(flowCookieOptions({ id: 'google', formPost: false }, false)).toEqual({ path: '/social/google/callback', sameSite: 'Lax' })
  })
})

describe('reading provider answers', () => {
  it('only true or "true" is a verified email (sso.md X8)', () => {
    expect([true, 'true'].map(emailVerifiedClaim)).toEqual([true, true])
    expect([false, 'false', undefined, null, 1, 'TRUE', 'yes', {}].map(emailVerifiedClaim)).toEqual(Array(8).fill(false))
    expect(toProfile('apple', { subject: '001.abc', email: 'x@privaterelay.appleid.com', emailVerified: 'false' }).emailVerified).toBe(false)
    // no usable email: never verified, whatever the flag says
    expect(toProfile('google', { subject: '1', email: 'not an email', emailVerified: true })).toEqual({ provider: 'google', subject: '1', email: null, emailVerified: false, name: null })
    expect(toProfile('x', { subject: 12345, name: '  Ada   Lovelace ' })).toEqual({ provider: 'x', subject: '12345', email: null, emailVerified: false, name: 'Ada Lovelace' })
    expect(() => toProfile('google', { subject: '' })).toThrow(UpstreamProfileError)
    expect(() => toProfile('google', { subject: 'has space' })).toThrow(UpstreamProfileError)
  })

  it('checks issuer, audience, expiry and nonce of an ID token', () => {
    const nowS = 1_800_000_000
    const good = { iss: 'https://appleid.apple.com', aud: 'network.fanz.sso', exp: nowS + 600, nonce: FLOW.nonce, sub: '001.abc', email: 'a@privaterelay.appleid.com', email_verified: 'true', is_private_email: 'true' }
    const expected = { issuers: ['https://appleid.apple.com'], audience: 'network.fanz.sso', nonce: FLOW.nonce, nowS }
    const claims = checkedIdTokenClaims('apple', idToken(good), expected)
    expect(toProfile('apple', { subject: claims.sub, email: claims.email, emailVerified: claims.email_verified })).toMatchObject({ email: 'a@privaterelay.appleid.com', emailVerified: true })
    for (const bad of [{ iss: 'https://evil.example' }, { aud: 'other-client' }, { exp: nowS - 120 }, { nonce: 'another-flow' }, { nonce: undefined }]) {
      expect(() => checkedIdTokenClaims('apple', idToken({ ...good, ...bad }), expected)).toThrow(UpstreamProfileError)
    }
    expect(() => checkedIdTokenClaims('google', 'not.a.jwt', expected)).toThrow(UpstreamProfileError)
  })

  it("reads Apple's first-authorization name and the .p8 key", async () => {
    expect(appleUserName(JSON.stringify({ name: { firstName: 'Ada', lastName: 'Lovelace' }, email: 'a@example.com' }))).toBe('Ada Lovelace')
    expect(appleUserName(null)).toBeNull()
    expect(appleUserName('{broken')).toBeNull()
    const pem = await applePem()
    const bytes = pkcs8FromPem(pem.replace(/\n/g, '\\n'))
    await expect(crypto.subtle.importKey('pkcs8', bytes, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])).resolves.toBeTruthy()
    expect(() => pkcs8FromPem('not a key!')).toThrow(TypeError)
  })
})

describe('SocialButtons', () => {
  it('links each provider to its start URL with the pending request, named "Continue with ..."', () => {
    const html = String(SocialButtons({ requestId: 'arq_01JBZ6W6X1Y2Z3A4B5C6D7E8F9', providers: ['google', 'apple', 'sandbox'] }))
    expect(html).toContain('<a class="button secondary" href="/social/google/start?request=arq_01JBZ6W6X1Y2Z3A4B5C6D7E8F9">Continue with Google</a>')
    expect(html).toContain('href="/social/apple/start?request=arq_01JBZ6W6X1Y2Z3A4B5C6D7E8F9">Continue with Apple</a>')
    expect(html).toContain('Continue with Sandbox provider')
    expect(html).not.toContain('Facebook')
    expect(String(SocialButtons({ requestId: null, providers: ['x'] }))).toContain('href="/social/x/start">Continue with X</a>')
    expect(SocialButtons({ requestId: null, providers: [] })).toBeNull()
  })
})
