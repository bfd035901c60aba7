/**
 * Conformance: `openid-client` (panva, the standards client from npm) runs the whole life of a
 * session against the provider — discovery, authorization code with PKCE, token, userinfo,
 * refresh, introspection, revocation and end-session — plus client_credentials. Its requests go
 * through the Worker's real fetch handler; only the user's browser step is played by `call()`.
 */
import { env } from 'cloudflare:workers'
import * as client from 'openid-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { CookieJar } from '../../../test/cookie-jar'
import { call, cf, fetchWorker } from '../../../test/helpers'
import { createUser, signInAtSso } from '../../../test/sso'
import { hashClientSecret } from './clients'

const ISSUER = new URL('http://sso.localhost')
const RP = { id: 'conformance-rp', secret: 'conformance-secret-0123456789abcdefghijklmnopqrstuv', redirect: 'https://rp.example/callback', loggedOut: 'https://rp.example/bye' }
const SERVICE = { id: 'svc_conformance', secret: 'service-secret-0123456789abcdefghijklmnopqrstuvwxyz' }

const throughWorker: client.CustomFetch = (url, options) =>
  fetchWorker(new Request(url, { ...(options as RequestInit), redirect: 'manual', cf: cf('US', 'CA') }))

async function configFor(id: string, secret: string): Promise<client.Configuration> {
  return client.discovery(ISSUER, id, secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests], [client.customFetch]: throughWorker })
}

beforeAll(async () => {
  const now = Date.now()
  await env.DB.batch([
    env.DB.prepare(
      `INSERT OR REPLACE INTO oauth_clients (id, name, kind, secret_kind, secret_hash, redirect_uris_json, post_logout_redirect_uris_json, grant_types_json, scope, first_party, status, created_at_ms, updated_at_ms)
       VALUES (?, 'Conformance RP', 'partner', 'hashed', ?, ?, ?, '["authorization_code","refresh_token"]', 'openid profile email offline_access', 1, 'active', ?, ?)`,
    ).bind(RP.id, hashClientSecret(RP.secret), JSON.stringify([RP.redirect]), JSON.stringify([RP.loggedOut]), now, now),
    env.DB.prepare(
      `INSERT OR REPLACE INTO oauth_clients (id, name, kind, secret_kind, secret_hash, grant_types_json, scope, first_party, status, created_at_ms, updated_at_ms)
       VALUES (?, 'Conformance service', 'service', 'hashed', ?, '["client_credentials"]', 'media:read payouts:read', 0, 'active', ?, ?)`,
    ).bind(SERVICE.id, hashClientSecret(SERVICE.secret), now, now),
  ])
})

describe('openid-client against FanzSSO', () => {
  it('discovery, code + PKCE, token, userinfo, refresh, introspection, revocation, end-session', async () => {
    const config = await configFor(RP.id, RP.secret)
    expect(config.serverMetadata()).toMatchObject({ issuer: 'http://sso.localhost', code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true })

    const jar = new CookieJar()
    const { userId, email } = await createUser({ displayName: 'Conformance' })
    await signInAtSso(jar, userId)
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: RP.redirect,
      scope: 'openid profile email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    const consented = await call('sso.localhost', authorizationUrl.pathname + authorizationUrl.search, { headers: { cookie: jar.header('sso.localhost') } })
    expect(consented.status).toBe(303)
    const callbackUrl = new URL(consented.headers.get('location')!)
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(RP.redirect)

    const tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.refresh_token).toMatch(new RegExp(`^${userId}\\.rt_`))
    const idClaims = tokens.claims()!
    expect(idClaims).toMatchObject({ iss: 'http://sso.localhost', sub: userId, aud: RP.id, nonce, email, email_verified: true, name: 'Conformance', amr: ['pwd'] })

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId)
    expect(userinfo).toMatchObject({ sub: userId, email, name: 'Conformance', email_verified: true })

    // the code is single use: a second exchange fails and revokes what the first one issued
    await expect(client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce })).rejects.toMatchObject({ error: 'invalid_grant' })
    expect(await client.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false })

    // a fresh sign-in for the rest of the life cycle
    const verifier2 = client.randomPKCECodeVerifier()
    const url2 = client.buildAuthorizationUrl(config, { redirect_uri: RP.redirect, scope: 'openid email offline_access', code_challenge: await client.calculatePKCECodeChallenge(verifier2), code_challenge_method: 'S256', state })
    const res2 = await call('sso.localhost', url2.pathname + url2.search, { headers: { cookie: jar.header('sso.localhost') } })
    const tokens2 = await client.authorizationCodeGrant(config, new URL(res2.headers.get('location')!), { pkceCodeVerifier: verifier2, expectedState: state })

    const refreshed = await client.refreshTokenGrant(config, tokens2.refresh_token!)
    expect(refreshed.refresh_token).not.toBe(tokens2.refresh_token)
    expect(refreshed.claims()?.sub).toBe(userId)

    const active = await client.tokenIntrospection(config, refreshed.refresh_token!)
    expect(active).toMatchObject({ active: true, client_id: RP.id, sub: userId, token_type: 'refresh_token', scope: 'openid email offline_access' })
    const accessInfo = await client.tokenIntrospection(config, refreshed.access_token)
    expect(accessInfo).toMatchObject({ active: true, client_id: RP.id, sub: userId, token_type: 'Bearer' })
    expect(await client.tokenIntrospection(config, tokens2.refresh_token!)).toEqual({ active: false })

    await client.tokenRevocation(config, refreshed.refresh_token!)
    expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toEqual({ active: false })
    expect(await client.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false })
    await expect(client.fetchUserInfo(config, refreshed.access_token, userId)).rejects.toThrow()

    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens2.id_token!, post_logout_redirect_uri: RP.loggedOut, state: 'bye' })
    const ended = await call('sso.localhost', endSession.pathname + endSession.search, { headers: { cookie: jar.header('sso.localhost') } })
    expect(ended.status).toBe(303)
    expect(ended.headers.get('location')).toBe(`${RP.loggedOut}?state=bye`)
    jar.store('sso.localhost', ended)
    expect(jar.get('sso.localhost', 'fanz_sso')).toBeUndefined()
    const after = await call('sso.localhost', url2.pathname + url2.search, { headers: { cookie: jar.header('sso.localhost') } })
    expect(after.headers.get('location')).toMatch(/^\/login\?request=arq_/)
  })

  it('signs ID tokens with RS256 for a client registered for it (OIDC Discovery requires RS256)', async () => {
    await env.DB.prepare("UPDATE oauth_clients SET id_token_signed_response_alg = 'RS256' WHERE id = ?").bind(RP.id).run()
    const config = await configFor(RP.id, RP.secret)
    expect(config.serverMetadata().id_token_signing_alg_values_supported).toEqual(['EdDSA', 'RS256'])
    const jar = new CookieJar()
    const { userId } = await createUser()
    await signInAtSso(jar, userId)
    const verifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, { redirect_uri: RP.redirect, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce })
    const res = await call('sso.localhost', url.pathname + url.search, { headers: { cookie: jar.header('sso.localhost') } })
    const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get('location')!), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true })
    const header = JSON.parse(atob(tokens.id_token!.split('.')[0]!.replaceAll('-', '+').replaceAll('_', '/'))) as { alg: string; kid: string }
    expect(header.alg).toBe('RS256')
    const jwks = (await (await call('sso.localhost', '/.well-known/jwks.json')).json()) as { keys: Array<{ kid: string; kty: string }> }
    expect(jwks.keys.find((k) => k.kid === header.kid)?.kty).toBe('RSA')
    // its signature verifies against the published key (openid-client checks claims; jose checks the signature here)
    const { jwtVerify, createLocalJWKSet } = await import('jose')
    const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks as never), { issuer: 'http://sso.localhost', audience: RP.id })
    expect(payload.sub).toBe(userId)
    await env.DB.prepare("UPDATE oauth_clients SET id_token_signed_response_alg = 'EdDSA' WHERE id = ?").bind(RP.id).run()
  })

  it('client_credentials for a service client', async () => {
    const config = await configFor(SERVICE.id, SERVICE.secret)
    const tokens = await client.clientCredentialsGrant(config, { scope: 'media:read' })
    expect(tokens.scope).toBe('media:read')
    const whoami = await call('api.localhost', '/api/edge/whoami', { token: tokens.access_token })
    expect(await whoami.json()).toMatchObject({ subject: SERVICE.id, roles: ['service'] })
    await expect(client.clientCredentialsGrant(config, { scope: 'vault:read' })).rejects.toMatchObject({ error: 'invalid_scope' })
  })
})
