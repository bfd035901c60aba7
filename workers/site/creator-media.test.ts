/**
 * `/me/media` on BoyFanz with the brand session cookie: the creator sees their own items with
 * status and storage use; a visitor without a session is sent to sign in; a fan is told there is
 * no creator profile.
 */
import { describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import { newId } from '../lib/ids'
import { ALEX_USER, createTus, creatorToken } from '../media/uploads/test-support'
import { formatBytes } from './creator-media'

const SITE = 'boyfanz.localhost'

describe('/me/media', () => {
  it('lists the creator’s media with status and storage used, never cached', async () => {
    const { itemId } = await createTus(await creatorToken(), 3 * 1024 * 1024, { filetype: 'video/mp4', title: 'Backstage <b>pass</b>' })
    const cookie = `fanz_session=${await tokenFor(['creator'], { subject: ALEX_USER, age_verified: true })}`
    const res = await call(SITE, '/me/media', { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const html = await res.text()
    expect(html).toContain('<h1 id="title">Media</h1>')
    expect(html).toMatch(new RegExp(`<tr data-item="${itemId}"><td>Backstage &lt;b&gt;pass&lt;/b&gt;</td><td>Video</td><td data-status="uploading">Uploading</td>`))
    // the open upload reserves its declared 3 MiB against the 50 GiB default
    expect(html).toContain('Storage: 3.0 MiB of 50.0 GiB used.')
  })

  it('sends a visitor without a session to sign in; a fan without a profile is told so', async () => {
    const anonymous = await call(SITE, '/me/media', { headers: { cookie: 'fanz_age=1' } })
    expect([302, 303]).toContain(anonymous.status)
    const fan = `fanz_session=${await tokenFor(['fan'], { subject: newId('user'), age_verified: true })}`
    expect(await (await call(SITE, '/me/media', { headers: { cookie: fan } })).text()).toContain('You have no creator profile on BoyFanz.')
  })

  it('formats sizes in binary units', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(53687091200)]).toEqual(['0 B', '1023 B', '1.5 KiB', '50.0 GiB'])
  })
})
