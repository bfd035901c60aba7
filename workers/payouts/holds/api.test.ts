/**
 * Compliance holds through the API: placed and released by finance or compliance officers with a
 * reason, audited both ways, listed by creator and state; `openHold` and `creatorsOnHold` (what
 * the payout run reads) follow them.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import { mint, newCreator } from '../../vault/kyc/test-kit'
import { creatorsOnHold, openHold } from './store'

const API = 'api.localhost'

interface Hold {
  id: string
  creator_id: string
  reason: string
  open: boolean
  placed_by: string
  placed_at: string
  released_by: string | null
  released_at: string | null
}

async function auditFor(action: string, subject: string) {
  const res = await call(API, `/api/compliance/audit?${new URLSearchParams({ action, subject })}`, { token: await mint({ roles: ['admin'] }) })
  return ((await res.json()) as { items: Array<{ actor: string; details: Record<string, unknown> }> }).items
}

const place = (token: string, body: unknown) => call(API, '/api/payouts/holds', { token, body })
const release = (token: string, id: string, body: unknown) => call(API, `/api/payouts/holds/${id}/release`, { token, body })

describe('compliance holds', () => {
  it('are placed, listed, read by the run and released, each step audited', async () => {
    const officer = await mint({ roles: ['compliance_officer'], subject: 'usr_01JFANZC0MPL1ANCE00000000' })
    const finance = await mint({ roles: ['finance'], subject: 'usr_01JFANZF1NANCE00000000000' })
    const held = await newCreator()
    const free = await newCreator()

    const res = await place(officer, { creator_id: held.creatorId, reason: 'chargeback ratio under review (case 42)' })
    expect(res.status, await res.clone().text()).toBe(201)
    const hold = (await res.json()) as Hold
    expect(hold).toMatchObject({ creator_id: held.creatorId, reason: 'chargeback ratio under review (case 42)', open: true, placed_by: 'usr_01JFANZC0MPL1ANCE00000000', released_at: null })
    expect(hold.id).toMatch(/^poh_/)
    const second = (await (await place(finance, { creator_id: held.creatorId, reason: 'legal request pending from counsel' })).json()) as Hold
    expect((await auditFor('payouts.hold.place', `payout_hold:${hold.id}`))[0]!.details).toEqual({ creator_id: held.creatorId, reason: 'chargeback ratio under review (case 42)' })

    // what the payout run reads
    expect((await openHold(env, held.creatorId))!.id).toBe(hold.id)
    expect(await openHold(env, free.creatorId)).toBeNull()
    expect([...(await creatorsOnHold(env, [free.creatorId, held.creatorId, 'crt_unknown']))]).toEqual([held.creatorId])

    const list = async (query: string) => ((await (await call(API, `/api/payouts/holds?${query}`, { token: officer })).json()) as { items: Hold[] }).items.map((h) => h.id)
    expect(await list(`creator_id=${held.creatorId}&open=true`)).toEqual([second.id, hold.id])
    expect(await list(`creator_id=${free.creatorId}`)).toEqual([])

    const released = await release(officer, hold.id, { reason: 'review closed: ratio back under 0.5%' })
    expect(released.status).toBe(200)
    expect((await released.json()) as Hold).toMatchObject({ id: hold.id, open: false, released_by: 'usr_01JFANZC0MPL1ANCE00000000' })
    const entry = (await auditFor('payouts.hold.release', `payout_hold:${hold.id}`))[0]!
    expect(entry.details).toMatchObject({ creator_id: held.creatorId, reason: 'review closed: ratio back under 0.5%', placed_reason: 'chargeback ratio under review (case 42)' })
    expect(typeof entry.details.held_ms).toBe('number')
    // the second hold still holds
    expect((await openHold(env, held.creatorId))!.id).toBe(second.id)
    expect((await creatorsOnHold(env, [held.creatorId])).size).toBe(1)
    expect(await list(`creator_id=${held.creatorId}&open=true`)).toEqual([second.id])
    expect(await list(`creator_id=${held.creatorId}&open=false`)).toEqual([hold.id])

    const again = await release(officer, hold.id, { reason: 'releasing a second time by mistake' })
    expect(again.status).toBe(409)
    expect((await release(finance, second.id, { reason: 'counsel confirmed no legal hold needed' })).status).toBe(200)
    expect(await openHold(env, held.creatorId)).toBeNull()
    expect((await creatorsOnHold(env, [held.creatorId])).size).toBe(0)

    // paging: newest first, one at a time
    const page1 = (await (await call(API, `/api/payouts/holds?creator_id=${held.creatorId}&limit=1`, { token: officer })).json()) as { items: Hold[]; next_cursor: string }
    expect(page1.items.map((h) => h.id)).toEqual([second.id])
    const page2 = (await (await call(API, `/api/payouts/holds?creator_id=${held.creatorId}&limit=1&cursor=${page1.next_cursor}`, { token: officer })).json()) as { items: Hold[]; next_cursor: string | null }
    expect(page2).toEqual({ items: [expect.objectContaining({ id: hold.id })], next_cursor: null })
  })

  it('refuses bad input naming the field, and anyone without payouts:holds:manage', async () => {
    const officer = await mint({ roles: ['compliance_officer'] })
    const creator = await newCreator()
    const cases: Array<[unknown, string[]]> = [
      [{ creator_id: 'crt_01JFANZ0000000000000009999', reason: 'a reason long enough' }, ['body.creator_id']],
      [{ creator_id: 'nope', reason: 'a reason long enough' }, ['body.creator_id']],
      [{ creator_id: creator.creatorId, reason: 'short' }, ['body.reason']],
      [{ creator_id: creator.creatorId }, ['body.reason']],
    ]
    for (const [body, paths] of cases) {
      const res = await place(officer, body)
      expect(res.status, JSON.stringify(body)).toBe(422)
      expect(((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(paths)
    }
    const body = { creator_id: creator.creatorId, reason: 'a reason long enough' }
    expect((await place(creator.token, body)).status).toBe(403)
    expect((await place(await mint({ roles: ['admin'] }), body)).status).toBe(403)
    expect((await place(await mint({ roles: ['support'] }), body)).status).toBe(403)
    expect((await call(API, '/api/payouts/holds', { token: creator.token })).status).toBe(403)
    expect((await call(API, '/api/payouts/holds')).status).toBe(401)
    expect((await call(API, '/api/payouts/holds', { token: await mint({ roles: ['admin'] }) })).status).toBe(200)
    expect((await release(officer, 'poh_01JFANZ0000000000000000000', { reason: 'a reason long enough' })).status).toBe(404)
    expect((await release(officer, 'hold-1', { reason: 'a reason long enough' })).status).toBe(400)
    expect((await call(API, '/api/payouts/holds?open=maybe', { token: officer })).status).toBe(400)
    expect(await openHold(env, creator.creatorId)).toBeNull()
  })
})
