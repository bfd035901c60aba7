import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import type { PasskeyView } from './routes'
import { PasskeyManager, PasskeySignIn, PASSKEYS_SCRIPT } from './ui'

const render = async (node: unknown) => String(await (node as { toString(): string | Promise<string> }).toString())

const PASSKEY: PasskeyView = {
  id: 'AbC-_1',
  name: 'Work <laptop> & "phone"',
  created_at: '2026-11-02T10:00:00.000Z',
  last_used_at: null,
  backed_up: true,
  device_type: 'multiDevice',
}

describe('passkey components', () => {
  it('PasskeySignIn: a keyboard button with its name, an aria-live status, the request id and the nonce-bearing script', async () => {
    const html = await render(PasskeySignIn({ nonce: 'n0nce', requestId: 'arq_01JABCDEFGHJKMNPQRSTVWXYZ0' }))
    expect(html).toContain('<button type="button" id="passkey-sign-in"')
    expect(html).toMatch(/<button[^>]*id="passkey-sign-in"[^>]*>\s*Sign in with a passkey\s*<\/button>/)
    expect(html).toMatch(/id="passkey-sign-in-status"[^>]*role="status"[^>]*aria-live="polite"/)
    expect(html).toContain('data-request="arq_01JABCDEFGHJKMNPQRSTVWXYZ0"')
    expect(html).toContain(`<script src="${PASSKEYS_SCRIPT}" nonce="n0nce" defer="">`)
    // no inline handlers anywhere (the CSP would block them)
    expect(html).not.toMatch(/\son[a-z]+=/)
    expect(await render(PasskeySignIn({ nonce: 'n', requestId: null }))).toContain('data-request=""')
  })

  it('PasskeyManager: escaped names, remove buttons named after the passkey, the add form, the empty state', async () => {
    const html = await render(PasskeyManager({ nonce: 'n0nce', passkeys: [PASSKEY] }))
    expect(html).toContain('Work &lt;laptop&gt; &amp; &quot;phone&quot;')
    expect(html).toContain('aria-label="Remove passkey Work &lt;laptop&gt; &amp; &quot;phone&quot;"')
    expect(html).toContain('data-passkey-remove="AbC-_1"')
    expect(html).toContain('<time datetime="2026-11-02T10:00:00.000Z">2 Nov 2026</time>')
    expect(html).toContain('never used')
    expect(html).toContain('synced')
    expect(html).toMatch(/<label for="passkey-name">/)
    expect(html).toMatch(/<button type="button" id="passkey-add">\s*Add a passkey\s*<\/button>/)
    expect(html).toMatch(/id="passkey-manager-status" role="status" aria-live="polite"/)
    expect(html).toMatch(/<p id="passkey-empty" hidden="">/)
    expect(html).not.toMatch(/\son[a-z]+=/)
    const empty = await render(PasskeyManager({ nonce: 'n', passkeys: [] }))
    expect(empty).toMatch(/<p id="passkey-empty">/)
  })

  it('the script is an asset served on the SSO host, with the page security headers', async () => {
    const asset = await env.ASSETS.fetch(`http://assets.local${PASSKEYS_SCRIPT}`)
    expect(asset.status).toBe(200)
    const source = await asset.text()
    expect(source).toContain("'/passkeys/authenticate/verify'")
    expect(source).toContain('parseCreationOptionsFromJSON')
    const res = await call('sso.localhost', PASSKEYS_SCRIPT)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    await res.arrayBuffer()
  })
})
