/**
 * Test-only: a minimal browser for the SSO pages over `call()`: keeps cookies by hand, posts forms
 * from the SSO host's origin, and signs accounts up through `/signup`. Imported by the page tests.
 * @module
 */
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { expect } from 'vitest'
import { call } from '../../../test/helpers'

export const SSO = 'sso.localhost'
export const ORIGIN = 'http://sso.localhost'
export const PASSWORD = 'lantern orbit cactus 42'

export class Browser {
  readonly cookies = new Map<string, string>()
  constructor(readonly ip: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  #keep(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === ''
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#keep(await call(SSO, path, { headers: { cookie: this.cookieHeader(), 'cf-connecting-ip': this.ip, ...headers } }))
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.#keep(
      await call(SSO, path, {
        method: 'POST',
        body: new URLSearchParams(form).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: this.cookieHeader(), 'cf-connecting-ip': this.ip, ...headers },
      }),
    )
  }
}

let ipCounter = 0
let emailCounter = 0
/** `prefix` keeps each test file's addresses apart (the per-IP throttles are real). */
export const freshIp = (prefix: string) => `${prefix}.${++ipCounter}`
export const freshEmail = (tag: string) => `${tag}.${++emailCounter}.${Date.now()}@example.com`

/** Signs up through the page; the browser is signed in afterwards. */
export async function signUp(browser: Browser, email: string, displayName = 'Ann Lee'): Promise<void> {
  const res = await browser.post('/signup', { display_name: displayName, email, password: PASSWORD })
  expect(res.status, await res.clone().text()).toBe(303)
  expect(res.headers.get('location')).toBe('/account')
  expect(browser.cookies.has('fanz_sso')).toBe(true)
}

/** The base32 key shown on the enrolment page, as bytes. */
export function secretOnPage(html: string): Uint8Array {
  const match = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(html)
  expect(match, 'secret shown').not.toBeNull()
  return decodeBase32IgnorePadding(match![1]!.replaceAll(' ', ''))
}

/** The recovery codes shown once. */
export function codesOnPage(html: string): string[] {
  return [...html.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!)
}
