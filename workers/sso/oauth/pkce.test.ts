import { describe, expect, it } from 'vitest'
import { randomToken } from '../../lib/encoding'
import { challengeFor, isPkceChallenge, isPkceVerifier, verifyPkce } from './pkce'

// RFC 7636 Appendix B
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

describe('PKCE S256', () => {
  it('matches RFC 7636 Appendix B', () => {
    expect(challengeFor(VERIFIER)).toBe(CHALLENGE)
    expect(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE, method: 'S256' })).toEqual({ ok: true })
  })

  it('computes challenges at the verifier length limits', () => {
    expect(challengeFor('a'.repeat(43))).toBe('ZtNPunH49FD35FWYhT5Tv8I7vRKQJ8uxMaL0_9eHjNA')
    expect(challengeFor('~'.repeat(128))).toBe('zNhOm5Jyonenca7bQzzpjUpwFDVrfhrbbOGCqgWA6HU')
    const verifier = randomToken(32)
    expect(verifyPkce({ verifier, challenge: challengeFor(verifier), method: 'S256' })).toEqual({ ok: true })
  })

  it('refuses plain, a missing method and anything but S256', () => {
    for (const method of ['plain', undefined, null, '', 's256', 'S512']) {
      expect(verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE, method })).toEqual({ ok: false, reason: 'unsupported method' })
    }
    // plain semantics (challenge = verifier) never pass either
    expect(verifyPkce({ verifier: VERIFIER, challenge: VERIFIER, method: 'S256' })).toEqual({ ok: false, reason: 'mismatch' })
  })

  it('refuses a verifier that does not match, or is malformed', () => {
    expect(verifyPkce({ verifier: `${VERIFIER.slice(0, -1)}l`, challenge: CHALLENGE, method: 'S256' })).toEqual({ ok: false, reason: 'mismatch' })
    for (const verifier of ['', 'a'.repeat(42), 'a'.repeat(129), `${VERIFIER.slice(0, -1)}+`, `${VERIFIER.slice(0, -1)}=`, `${VERIFIER} `, `${VERIFIER.slice(0, -1)}é`]) {
      expect(verifyPkce({ verifier, challenge: CHALLENGE, method: 'S256' })).toEqual({ ok: false, reason: 'malformed verifier' })
      expect(isPkceVerifier(verifier)).toBe(false)
      expect(() => challengeFor(verifier)).toThrow(TypeError)
    }
    expect(isPkceVerifier('a'.repeat(128))).toBe(true)
    expect(isPkceVerifier('AZaz09-._~'.repeat(5))).toBe(true)
  })

  it('refuses a malformed challenge', () => {
    for (const challenge of ['', `${CHALLENGE}=`, CHALLENGE.slice(0, -1), `${CHALLENGE.slice(0, -1)}d`, CHALLENGE.replace('-', '+')]) {
      expect(isPkceChallenge(challenge)).toBe(false)
      expect(verifyPkce({ verifier: VERIFIER, challenge, method: 'S256' })).toEqual({ ok: false, reason: 'malformed challenge' })
    }
    expect(isPkceChallenge(CHALLENGE)).toBe(true)
  })
})
