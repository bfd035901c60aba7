/**
 * Payout methods through the API, as a creator uses them: every method type added with its masked
 * summary and payout currency, invalid input naming the field, the strong step-up, the cool-off,
 * details sealed at rest, the mail to the creator and the audit trail; change, removal, default,
 * reveal; nobody else's methods.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import { outboxFor } from '../../sso/mail/outbox'
import { mint, newCreator } from '../../vault/kyc/test-kit'
import { defaultMethod, methodById, methodsOf, methodsOfCreators, openMethodRow } from './store'

const API = 'api.localhost'

/** a token after a two-factor sign-in just now (passes PAYOUT_METHOD_STEP_UP) */
const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

const berlin = { streetName: 'Unter den Linden', buildingNumber: '77', postCode: '10117', townName: 'Berlin', country: 'DE' }
const newYork = { streetName: 'Main Street', buildingNumber: '100', postCode: '10001', townName: 'New York', countrySubDivision: 'NY', country: 'US' }

const INPUTS = {
  sepa: { type: 'sepa', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', name: 'Alex Example', address: berlin },
  ach: { type: 'ach', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking', accountHolderName: 'Alex Example' },
  btc: { type: 'crypto', asset: 'BTC', network: 'bitcoin', address: 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4' },
  usdtTron: { type: 'crypto', asset: 'USDT', network: 'tron', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' },
  paxum: { type: 'paxum', email: 'alex@example.com' },
  epayservice: { type: 'epayservice', accountId: 'EP-778899' },
  payoneer: { type: 'payoneer', payeeId: 'PAYEE-1234567' },
  wiseGbp: { type: 'wise', currency: 'GBP', accountHolderName: 'Alex Example', details: { kind: 'sort_code', sortCode: '40-47-84', accountNumber: '70872490' } },
  wiseUsd: { type: 'wise', currency: 'USD', accountHolderName: 'Alex Example', details: { kind: 'aba', routingNumber: '026009593', accountNumber: '12345678', accountType: 'savings' }, address: newYork },
  wire: { type: 'wire', beneficiaryName: 'Alex Example', bic: 'DEUTDEFF', iban: 'DE89370400440532013000', bankName: 'Deutsche Bank AG', bankAddress: berlin },
  check: { type: 'check', payeeName: 'Alex Example', address: newYork },
} as const

interface MethodView {
  id: string
  creator_id: string
  type: string
  rail: string
  currency: string
  summary: string
  default: boolean
  usable_from: string
  usable: boolean
  created_at: string
  removed_at: string | null
}

interface Problem {
  status: number
  code: string
  errors?: Array<{ path: string; message: string }>
}

function addMethod(token: string, creatorId: string, body: Record<string, unknown>, key: string = crypto.randomUUID()): Promise<Response> {
  return call(API, `/api/payouts/creators/${creatorId}/methods`, { token, headers: { 'idempotency-key': `"${key}"` }, body })
}

/** adds a method and returns it (expects 201) */
async function added(token: string, creatorId: string, body: Record<string, unknown>): Promise<MethodView> {
  const res = await addMethod(token, creatorId, body)
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { method: MethodView }).method
}

async function auditFor(action: string, subject: string) {
  const admin = await mint({ roles: ['admin'] })
  const res = await call(API, `/api/compliance/audit?${new URLSearchParams({ action, subject, limit: '50' })}`, { token: admin })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: Array<{ action: string; subject: string; actor: string; details: Record<string, unknown> }> }).items
}

/** a creator profile with no account behind it (as seeded profiles are) */
async function creatorWithoutAccount(): Promise<string> {
  const id = newId('creator')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, user_id, created_at_ms) VALUES (?, ?, ?, ?, NULL, ?)').bind(id, 'brd_01JFANZ0000000000000000001', id.toLowerCase(), 'No Account', Date.now()).run()
  return id
}

const HOUR = 3_600_000
const COOL_OFF_MS = 72 * HOUR

describe('adding payout methods', () => {
  it('adds every method type with its masked summary, rail and payout currency; at most 10 in use', async () => {
    const creator = await newCreator()
    const token = await strong(['fan', 'creator'], creator.userId)
    const cases: Array<[Record<string, unknown>, { summary: string; rail: string; currency: string; type: string }]> = [
      [{ method: INPUTS.sepa }, { type: 'sepa', summary: 'SEPA •••• 3000 (DE)', rail: 'sepa', currency: 'EUR' }],
      [{ method: INPUTS.ach }, { type: 'ach', summary: 'ACH checking •••• 6789', rail: 'nacha', currency: 'USD' }],
      [{ method: INPUTS.btc }, { type: 'crypto', summary: 'BTC bc1q…f3t4', rail: 'crypto_custodian', currency: 'USD' }],
      [{ method: INPUTS.usdtTron }, { type: 'crypto', summary: 'USDT (tron) TJRa…RTv8', rail: 'crypto_custodian', currency: 'USD' }],
      [{ method: INPUTS.paxum }, { type: 'paxum', summary: 'Paxum a•••@example.com', rail: 'paxum', currency: 'USD' }],
      [{ method: INPUTS.epayservice, currency: 'EUR' }, { type: 'epayservice', summary: 'ePayService •••• 8899', rail: 'epayservice', currency: 'EUR' }],
      [{ method: INPUTS.payoneer, currency: 'EUR' }, { type: 'payoneer', summary: 'Payoneer •••• 4567', rail: 'payoneer', currency: 'EUR' }],
      [{ method: INPUTS.wiseGbp }, { type: 'wise', summary: 'Wise GBP •••• 2490 (sort code)', rail: 'wise', currency: 'GBP' }],
      [{ method: INPUTS.wire, currency: 'EUR' }, { type: 'wire', summary: 'Wire •••• 3000 (DEUT DE)', rail: 'wire', currency: 'EUR' }],
      [{ method: INPUTS.check }, { type: 'check', summary: 'Check by mail to New York (US)', rail: 'check', currency: 'USD' }],
    ]
    const ids: string[] = []
    for (const [body, expected] of cases) {
      const method = await added(token, creator.creatorId, body)
      expect(method).toMatchObject({ ...expected, creator_id: creator.creatorId, usable: false, removed_at: null })
      ids.push(method.id)
    }
    // the first method became the default, the others did not
    const list = await call(API, `/api/payouts/creators/${creator.creatorId}/methods`, { token })
    expect(list.status).toBe(200)
    const items = ((await list.json()) as { items: MethodView[] }).items
    expect(items).toHaveLength(10)
    expect(items[0]).toMatchObject({ id: ids[0], default: true, summary: 'SEPA •••• 3000 (DE)' })
    expect(items.filter((m) => m.default)).toHaveLength(1)
    // the eleventh is refused
    const eleventh = await addMethod(token, creator.creatorId, { method: INPUTS.wiseUsd })
    expect(eleventh.status).toBe(409)
    expect(((await eleventh.json()) as Problem).code).toBe('CONFLICT')
    expect(await methodsOf(env, creator.creatorId)).toHaveLength(10)
  })

  it('refuses invalid methods with 422 naming each field as body.method.x', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ method: { ...INPUTS.sepa, iban: 'DE88 3704 0044 0532 0130 00' } }, ['body.method.iban']],
      [{ method: { ...INPUTS.sepa, bic: 'cobadeff' } }, ['body.method.bic']],
      [{ method: { ...INPUTS.sepa, address: { ...berlin, townName: undefined } } }, ['body.method.address.townName']],
      [{ method: { ...INPUTS.ach, routingNumber: '021000022' } }, ['body.method.routingNumber']],
      [{ method: { ...INPUTS.ach, accountType: 'brokerage' } }, ['body.method.accountType']],
      [{ method: { ...INPUTS.btc, address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx' } }, ['body.method.address']],
      [{ method: { type: 'crypto', asset: 'USDT', network: 'ethereum', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' } }, ['body.method.address']],
      [{ method: { type: 'crypto', asset: 'BTC', network: 'tron', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' } }, ['body.method.network']],
      [{ method: { type: 'paxum', email: 'alex.example.com' } }, ['body.method.email']],
      [{ method: { type: 'wise', currency: 'EUR', accountHolderName: 'Alex', details: { kind: 'sort_code', sortCode: '404784', accountNumber: '70872490' } } }, ['body.method.details.kind']],
      [{ method: { type: 'paypal', email: 'alex@example.com' } }, ['body.method.type']],
      [{ method: INPUTS.sepa, currency: 'USD' }, ['body.currency']],
      [{ method: INPUTS.btc, currency: 'EUR' }, ['body.currency']],
      [{ method: INPUTS.paxum, currency: 'JPY' }, ['body.currency']],
      [{}, ['body.method']],
    ]
    for (const [body, paths] of cases) {
      const res = await addMethod(token, creator.creatorId, body)
      const problem = (await res.json()) as Problem
      expect(res.status, JSON.stringify(body)).toBe(422)
      expect(problem.code).toBe('VALIDATION_FAILED')
      expect(problem.errors!.map((e) => e.path), JSON.stringify(body)).toEqual(paths)
    }
    expect(await methodsOf(env, creator.creatorId)).toHaveLength(0)
  })

  it('starts the cool-off: usable_from = now + PAYOUT_METHOD_COOL_OFF_HOURS (72 h)', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const before = Date.now()
    const res = await addMethod(token, creator.creatorId, { method: INPUTS.sepa })
    const after = Date.now()
    expect(res.status).toBe(201)
    const body = (await res.json()) as { method: MethodView; cool_off_hours: number }
    expect(body.cool_off_hours).toBe(72)
    const row = (await methodById(env, body.method.id))!
    expect(row.usableFromMs - row.createdAtMs).toBe(COOL_OFF_MS)
    expect(row.createdAtMs).toBeGreaterThanOrEqual(before)
    expect(row.createdAtMs).toBeLessThanOrEqual(after)
    expect(body.method.usable_from).toBe(new Date(row.createdAtMs + COOL_OFF_MS).toISOString())
    expect(body.method.usable).toBe(false)
  })

  it('needs a strong, recent step-up: 401 insufficient_user_authentication otherwise', async () => {
    const creator = await newCreator()
    const weak = await mint({ roles: ['creator'], subject: creator.userId })
    const res = await addMethod(weak, creator.creatorId, { method: INPUTS.sepa })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"')
    expect(res.headers.get('www-authenticate')).toContain('max_age=900')
    const stale = await mint({ roles: ['creator'], subject: creator.userId, amr: ['pwd', 'otp', 'mfa'], auth_age_seconds: 1000 })
    expect((await addMethod(stale, creator.creatorId, { method: INPUTS.sepa })).status).toBe(401)
    const oneFactor = await mint({ roles: ['creator'], subject: creator.userId, amr: ['pwd'] })
    expect((await addMethod(oneFactor, creator.creatorId, { method: INPUTS.sepa })).status).toBe(401)
    expect(await methodsOf(env, creator.creatorId)).toHaveLength(0)
    // reading the masked list needs no step-up
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods`, { token: weak })).status).toBe(200)
  })

  it('replays an add with the same Idempotency-Key instead of adding twice', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const key = crypto.randomUUID()
    const first = await addMethod(token, creator.creatorId, { method: INPUTS.paxum }, key)
    const second = await addMethod(token, creator.creatorId, { method: INPUTS.paxum }, key)
    expect(first.status).toBe(201)
    expect(second.status).toBe(201)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(((await second.json()) as { method: MethodView }).method.id).toBe(((await first.json()) as { method: MethodView }).method.id)
    expect(await methodsOf(env, creator.creatorId)).toHaveLength(1)
    expect((await addMethod(token, creator.creatorId, { method: INPUTS.sepa })).status).toBe(201)
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods`, { token, body: { method: INPUTS.sepa } })).status).toBe(400)
  })
})

describe('who may see and change methods', () => {
  it('another creator gets 404, a fan 403, finance reads the masked list but never changes it', async () => {
    const owner = await newCreator()
    const other = await newCreator()
    const ownerToken = await strong(['creator'], owner.userId)
    const method = await added(ownerToken, owner.creatorId, { method: INPUTS.sepa })
    const otherToken = await strong(['creator'], other.userId)
    expect((await call(API, `/api/payouts/creators/${owner.creatorId}/methods`, { token: otherToken })).status).toBe(404)
    expect((await call(API, `/api/payouts/creators/${owner.creatorId}/methods/${method.id}`, { token: otherToken })).status).toBe(404)
    expect((await addMethod(otherToken, owner.creatorId, { method: INPUTS.paxum })).status).toBe(404)
    expect((await call(API, `/api/payouts/creators/${owner.creatorId}/methods/${method.id}`, { token: otherToken, method: 'DELETE' })).status).toBe(404)
    // the other creator's own id with the owner's method id: still 404
    expect((await call(API, `/api/payouts/creators/${other.creatorId}/methods/${method.id}`, { token: otherToken })).status).toBe(404)
    const fan = await strong(['fan'], owner.userId)
    expect((await call(API, `/api/payouts/creators/${owner.creatorId}/methods`, { token: fan })).status).toBe(403)
    expect((await addMethod(fan, owner.creatorId, { method: INPUTS.paxum })).status).toBe(403)
    const finance = await strong(['finance'])
    // operators read through the creator's path too (payouts:self + payouts:read); changes are the owner's alone
    const financeList = await call(API, `/api/payouts/creators/${owner.creatorId}/methods`, { token: finance })
    expect(financeList.status).toBe(200)
    expect(await financeList.text()).not.toContain('0532013000')
    expect((await addMethod(finance, owner.creatorId, { method: INPUTS.paxum })).status).toBe(404)
    const operatorList = await call(API, `/api/payouts/methods?creator_id=${owner.creatorId}`, { token: finance })
    expect(operatorList.status).toBe(200)
    const text = await operatorList.text()
    expect(JSON.parse(text)).toEqual({ items: [expect.objectContaining({ id: method.id, summary: 'SEPA •••• 3000 (DE)' })] })
    expect(text).not.toContain('0532013000')
    expect((await call(API, `/api/payouts/methods?creator_id=${owner.creatorId}`, { token: ownerToken })).status).toBe(403)
    expect((await call(API, `/api/payouts/methods?creator_id=nope`, { token: finance })).status).toBe(400)
  })
})

describe('details at rest and in mail', () => {
  it('seals the details: D1 holds no IBAN or account number, only the owner reveals them (audited)', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const sepa = await added(token, creator.creatorId, { method: INPUTS.sepa })
    const ach = await added(token, creator.creatorId, { method: INPUTS.ach })
    const rows = await env.DB.prepare('SELECT * FROM payout_methods WHERE creator_id = ?').bind(creator.creatorId).all()
    const stored = JSON.stringify(rows.results)
    expect(rows.results).toHaveLength(2)
    for (const secret of ['DE89370400440532013000', '370400440532013000', '0532013000', '123456789', 'COBADEFF', 'Unter den Linden', 'Alex Example']) expect(stored).not.toContain(secret)
    // the pipeline opens them with the method id as additional data
    const row = (await methodById(env, sepa.id))!
    expect(await openMethodRow(env, row)).toMatchObject({ type: 'sepa', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' })
    await expect(openMethodRow(env, { id: ach.id, detailsSealed: row.detailsSealed })).rejects.toThrow()
    // the owner reveals with a strong step-up; it is audited and not cached
    const reveal = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${sepa.id}/details`, { token })
    expect(reveal.status).toBe(200)
    expect(reveal.headers.get('cache-control')).toBe('no-store')
    expect(((await reveal.json()) as { details: Record<string, unknown> }).details).toMatchObject({ iban: 'DE89370400440532013000', name: 'Alex Example' })
    const entries = await auditFor('payouts.method.reveal', `payout_method:${sepa.id}`)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.actor).toBe(creator.userId)
    expect(JSON.stringify(entries)).not.toContain('0532013000')
    const weak = await mint({ roles: ['creator'], subject: creator.userId })
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${sepa.id}/details`, { token: weak })).status).toBe(401)
    // only the owner reveals: an operator who may read the masked list gets the answer an unknown creator gets
    const finance = await strong(['finance', 'admin'])
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${sepa.id}/details`, { token: finance })).status).toBe(404)
  })

  it('mails the creator what changed, when, and when the cool-off ends; audits payouts.method.add', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const res = await addMethod(token, creator.creatorId, { method: INPUTS.sepa })
    const body = (await res.json()) as { method: MethodView; notified: boolean }
    expect(body.notified).toBe(true)
    const row = (await methodById(env, body.method.id))!
    const mail = await outboxFor(env.DB, creator.email)
    expect(mail).toHaveLength(1)
    expect(mail[0]!.subject).toBe('A payout method was added to your FANZ account')
    const minute = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`
    expect(mail[0]!.textBody).toContain(`On ${minute(row.createdAtMs)} the payout method SEPA •••• 3000 (DE) (paid in EUR) was added to your account as your default.`)
    expect(mail[0]!.textBody).toContain(`no payout goes to it before ${minute(row.usableFromMs)} (a 72-hour cool-off`)
    expect(mail[0]!.textBody + mail[0]!.htmlBody).not.toContain('0532013000')
    const entries = await auditFor('payouts.method.add', `payout_method:${row.id}`)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.details).toMatchObject({ creator_id: creator.creatorId, type: 'sepa', rail: 'sepa', currency: 'EUR', summary: 'SEPA •••• 3000 (DE)', usable_from_ms: row.usableFromMs, default: true, notified: true })
  })
})

describe('changing, removing and the default', () => {
  it('a change is a new row that replaces the old: new cool-off, default and rule carried over, payouts keep their method', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const old = await added(token, creator.creatorId, { method: INPUTS.sepa })
    const nowMs = Date.now()
    await env.DB.prepare("INSERT INTO payout_rules (creator_id, kind, weekday, threshold_minor, dates_json, currency, method_id, updated_by, updated_at_ms) VALUES (?, 'weekly', 5, NULL, NULL, 'EUR', ?, ?, ?)")
      .bind(creator.creatorId, old.id, creator.userId, nowMs)
      .run()
    const payoutId = newId('payout')
    await env.DB.prepare(
      "INSERT INTO payouts (id, creator_id, batch_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, hold_id, idempotency_key, attempts, created_at_ms, updated_at_ms) VALUES (?, ?, NULL, NULL, ?, 'sepa', 'scheduled', 'EUR', 10000, 20, 9980, 'settled', NULL, ?, 1, ?, ?)",
    )
      .bind(payoutId, creator.creatorId, old.id, payoutId, nowMs, nowMs)
      .run()
    const res = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${old.id}/replace`, {
      token,
      headers: { 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: { method: { ...INPUTS.sepa, iban: 'FR1420041010050500013M02606', bic: 'BNPAFRPPXXX' } },
    })
    expect(res.status, await res.clone().text()).toBe(201)
    const body = (await res.json()) as { method: MethodView; replaced: MethodView; notified: boolean }
    expect(body.method).toMatchObject({ summary: 'SEPA •••• 2606 (FR)', default: true, currency: 'EUR', usable: false, removed_at: null })
    expect(body.replaced).toMatchObject({ id: old.id, default: false })
    expect(body.replaced.removed_at).not.toBeNull()
    const fresh = (await methodById(env, body.method.id))!
    expect(fresh.usableFromMs - fresh.createdAtMs).toBe(COOL_OFF_MS)
    expect((await defaultMethod(env, creator.creatorId))!.id).toBe(body.method.id)
    expect((await methodsOf(env, creator.creatorId)).map((m) => m.id)).toEqual([body.method.id])
    expect(await env.DB.prepare('SELECT method_id FROM payout_rules WHERE creator_id = ?').bind(creator.creatorId).first('method_id')).toBe(body.method.id)
    expect(await env.DB.prepare('SELECT method_id FROM payouts WHERE id = ?').bind(payoutId).first('method_id')).toBe(old.id)
    // the old method's details still open for the payout that went to it
    expect(await openMethodRow(env, (await methodById(env, old.id))!)).toMatchObject({ iban: 'DE89370400440532013000' })
    const mail = (await outboxFor(env.DB, creator.email))[0]!
    expect(mail.subject).toBe('A payout method on your FANZ account was changed')
    expect(mail.textBody).toContain('your payout method SEPA •••• 3000 (DE) was replaced by SEPA •••• 2606 (FR) (paid in EUR), now your default')
    const entries = await auditFor('payouts.method.change', `payout_method:${body.method.id}`)
    expect(entries[0]!.details).toMatchObject({ replaces: old.id, replaced_summary: 'SEPA •••• 3000 (DE)', summary: 'SEPA •••• 2606 (FR)' })
    // replacing the replaced one again: it is no longer in use
    const again = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${old.id}/replace`, {
      token,
      headers: { 'idempotency-key': `"${crypto.randomUUID()}"` },
      body: { method: INPUTS.sepa },
    })
    expect(again.status).toBe(404)
    // the masked view of the replaced method stays readable
    const view = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${old.id}`, { token })
    expect(((await view.json()) as MethodView).removed_at).toBe(body.replaced.removed_at)
  })

  it('removes a method and sets another default, mailing and auditing each', async () => {
    const creator = await newCreator()
    const token = await strong(['creator'], creator.userId)
    const first = await added(token, creator.creatorId, { method: INPUTS.sepa })
    const second = await added(token, creator.creatorId, { method: INPUTS.paxum })
    expect([first.default, second.default]).toEqual([true, false])
    const weak = await mint({ roles: ['creator'], subject: creator.userId })
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}/default`, { token: weak, method: 'POST' })).status).toBe(401)
    const def = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}/default`, { token, method: 'POST' })
    expect(def.status).toBe(200)
    expect(((await def.json()) as { method: MethodView }).method.default).toBe(true)
    expect((await defaultMethod(env, creator.creatorId))!.id).toBe(second.id)
    expect((await methodById(env, first.id))!.isDefault).toBe(false)
    expect((await auditFor('payouts.method.default', `payout_method:${second.id}`))).toHaveLength(1)

    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}`, { token: weak, method: 'DELETE' })).status).toBe(401)
    const removed = await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}`, { token, method: 'DELETE' })
    expect(removed.status).toBe(200)
    const removedBody = (await removed.json()) as { method: MethodView; notified: boolean }
    expect(removedBody.method).toMatchObject({ id: second.id, default: false, usable: false })
    expect(removedBody.method.removed_at).not.toBeNull()
    expect(await defaultMethod(env, creator.creatorId)).toBeNull()
    expect((await methodsOf(env, creator.creatorId)).map((m) => m.id)).toEqual([first.id])
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}`, { token, method: 'DELETE' })).status).toBe(404)
    expect((await call(API, `/api/payouts/creators/${creator.creatorId}/methods/${second.id}/default`, { token, method: 'POST' })).status).toBe(404)
    const mail = await outboxFor(env.DB, creator.email)
    expect(mail.map((m) => m.subject)).toEqual([
      'A payout method was removed from your FANZ account',
      'Your default payout method on FANZ was changed',
      'A payout method was added to your FANZ account',
      'A payout method was added to your FANZ account',
    ])
    expect(mail[0]!.textBody).toContain('the payout method Paxum a•••@example.com was removed from your account. It was your default')
    expect((await auditFor('payouts.method.remove', `payout_method:${second.id}`))[0]!.details).toMatchObject({ was_default: true, summary: 'Paxum a•••@example.com' })
    // set-based read for runs
    const byCreator = await methodsOfCreators(env, [creator.creatorId, 'crt_none'])
    expect([...byCreator.keys()]).toEqual([creator.creatorId])
    expect(byCreator.get(creator.creatorId)!.map((m) => m.id)).toEqual([first.id])
    // added as the default: the only default
    const third = await added(token, creator.creatorId, { method: INPUTS.wiseGbp, default: true })
    expect(third.default).toBe(true)
    expect((await methodsOf(env, creator.creatorId)).map((m) => [m.id, m.isDefault])).toEqual([
      [third.id, true],
      [first.id, false],
    ])
    // operators see the history with include_removed
    const history = await call(API, `/api/payouts/methods?creator_id=${creator.creatorId}&include_removed=true`, { token: await mint({ roles: ['compliance_officer'] }) })
    expect(((await history.json()) as { items: MethodView[] }).items.map((m) => [m.id, m.removed_at !== null])).toEqual([
      [third.id, false],
      [second.id, true],
      [first.id, false],
    ])
  })

  it('a profile no account owns answers 404 to every creator', async () => {
    const creatorId = await creatorWithoutAccount()
    const token = await strong(['creator'], 'usr_01JFANZNOSUCHUSER00000000')
    expect((await addMethod(token, creatorId, { method: INPUTS.paxum })).status).toBe(404)
  })
})
