import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import q0122 from '../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import q0291 from '../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0291.jpg?bytes'
import q2821 from '../../../shared/data/pdq/images/reg-test-input/labelme-subset/q2821.jpg?bytes'
import { call, tokenFor } from '../../test/helpers'
import { newId } from '../lib/ids'
import { casesOf, ingest, itemState, processingItem, reviewOf } from '../media/moderation/fixtures'

const DASH = 'dash.localhost'
const FORM = { origin: 'http://dash.localhost', 'content-type': 'application/x-www-form-urlencoded' }

let mod1: string
let mod2: string
const MOD1 = newId('user')
let routine: string
let flagged: string
let blocked: string

beforeAll(async () => {
  mod1 = await tokenFor(['moderator'], { subject: MOD1 })
  mod2 = await tokenFor(['moderator'])
  routine = await processingItem({ bytes: q0122, title: 'Harbour morning' })
  flagged = await processingItem({ bytes: q0291, title: 'Party', tags: ['sandbox:review'] })
  blocked = await processingItem({ bytes: q2821, title: 'sandbox:block' })
  for (const id of [routine, flagged, blocked]) await ingest(id)
})

const action = (itemId: string, what: string, token: string, body = '') => call(DASH, `/media/review/${itemId}/${what}`, { method: 'POST', token, headers: FORM, body })

describe('FanzDash /media/review', () => {
  it('a moderator signs in with a pasted token and lands on the review queue', async () => {
    const res = await call(DASH, '/session', { headers: FORM, body: `token=${encodeURIComponent(mod1)}` })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/media/review')
    expect(res.headers.get('set-cookie')).toMatch(/^fanz_session=/)
  })

  it('lists the queue most urgent first with priority, SLA, classifier verdict and scores, and open cases', async () => {
    const res = await call(DASH, '/media/review', { token: mod1 })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const html = await res.text()
    expect(html).toContain('<h1>Media review</h1>')
    const at = (id: string) => html.indexOf(`data-item="${id}"`)
    expect(at(blocked)).toBeGreaterThan(0)
    expect(at(blocked)).toBeLessThan(at(flagged))
    expect(at(flagged)).toBeLessThan(at(routine))
    expect(html).toContain(`<tr data-item="${blocked}" data-priority="0" data-sla="on_time">`)
    expect(html).toContain(`<tr data-item="${routine}" data-priority="2" data-sla="on_time">`)
    expect(html).toContain('<strong data-verdict="block">block</strong>')
    expect(html).toContain('<li>minors: 0.97</li>')
    expect(html).toContain('<li>non consent: 0.55</li>')
    expect(html).toContain('data-open-cases="1"')
    expect(html).toContain(`<label for="reject-reason-${routine}">Reason for rejecting</label>`)
    expect(html).toContain('<th scope="col">SLA</th>')
    expect(html).not.toContain('<script')
  })

  it('answers 401 without a token and 403 without media:moderate', async () => {
    expect((await call(DASH, '/media/review')).status).toBe(401)
    const res = await call(DASH, '/media/review', { token: await tokenFor(['operator']) })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('Media review needs the media:moderate permission')
    expect((await call(DASH, '/media/review', { token: await tokenFor(['admin']) })).status).toBe(200)
  })

  it('claims through the API: another moderator is refused with the API’s reason', async () => {
    const claim = await action(routine, 'claim', mod1)
    expect(claim.status).toBe(303)
    expect(claim.headers.get('location')).toBe(`/media/review?done=claim&item=${routine}`)
    expect(await reviewOf(routine)).toMatchObject({ status: 'claimed', claimed_by: MOD1 })
    const theirs = await action(routine, 'claim', mod2)
    expect(theirs.status).toBe(409)
    expect(await theirs.text()).toContain('is claimed by another moderator until')
    const page = await (await call(DASH, `/media/review?done=claim&item=${routine}`, { token: mod1 })).text()
    expect(page).toContain(`${routine}: claimed for 15 minutes.`)
    expect(page).toContain(`Renew claim on ${routine}`)
  })

  it('approves, rejects with a reason and escalates through the forms', async () => {
    const approve = await action(routine, 'approve', mod1)
    expect(approve.status).toBe(303)
    expect((await itemState(routine)).status).toBe('approved')

    const reject = await action(flagged, 'reject', mod1, 'reason=non_consensual')
    expect(reject.status).toBe(303)
    expect(await itemState(flagged)).toMatchObject({ status: 'rejected', status_reason: 'non_consensual' })

    const escalate = await action(blocked, 'escalate', mod1, 'reason=minor_suspected&note=age+unclear')
    expect(escalate.status).toBe(303)
    expect((await casesOf(blocked)).map((k) => k.kind).sort()).toEqual(['classifier', 'escalation'])

    // approving an item with open cases is refused by the API, shown on the page
    const refused = await action(blocked, 'approve', mod1)
    expect(refused.status).toBe(409)
    expect(await refused.text()).toContain('open case(s)')
  })

  it('refuses cross-site posts and unknown actions', async () => {
    const res = await call(DASH, `/media/review/${blocked}/approve`, { method: 'POST', token: mod1, headers: { ...FORM, origin: 'http://evil.example' }, body: '' })
    expect(res.status).toBe(403)
    expect((await action(blocked, 'publish', mod1)).status).toBe(404)
    expect((await env.DB.prepare('SELECT status FROM media_items WHERE id = ?').bind(blocked).first<{ status: string }>())!.status).toBe('in_review')
  })
})
