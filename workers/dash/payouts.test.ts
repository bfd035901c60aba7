/**
 * FanzDash payouts through the whole Worker on the dash host: batches by state with approvals
 * given/required, a batch's payouts, the latest run's refusals by code and the payout queue's dead
 * letters; approve and cancel as same-origin form posts that go through the batch API (permission,
 * strong step-up, distinct approvers, audit).
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, tokenFor } from '../../test/helpers'
import type { Role } from '../edge/roles'
import { newId } from '../lib/ids'
import { ledgerFor } from '../ledger/stub'
import { transitionPayout } from '../payouts/lifecycle'
import { pendingPayout, seedCreatorWithPayouts, T0, type Fixture } from '../payouts/statements/test-fixtures'

const DASH = 'dash.localhost'
const FORM = { origin: 'http://dash.localhost', 'content-type': 'application/x-www-form-urlencoded' }

async function mint(body: { roles: Role[]; subject?: string; amr?: string[] }): Promise<string> {
  const res = await call('api.localhost', '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status}`)
  return ((await res.json()) as { access_token: string }).access_token
}
const strong = (roles: Role[], subject = newId('user')) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

let f: Fixture
let g: Fixture
let h: Fixture
let draft: string
let draftPayouts: string[]
let approvedBatch: string
let submittedBatch: string
let settledBatch: string
const runId = newId('payoutRun')
const firstApprover = newId('user')

async function batch(state: string, over: { count: number; total: number; fee: number; required: number; createdAt: number; rail?: string }): Promise<string> {
  const id = newId('payoutBatch')
  await env.DB.prepare(
    "INSERT INTO payout_batches (id, run_id, rail, currency, state, count, total_minor, fee_minor, approvals_required, created_by, created_at_ms, updated_at_ms, submitted_at_ms, finished_at_ms) VALUES (?, ?, ?, 'USD', ?, ?, ?, ?, ?, 'system:test', ?, ?, ?, ?)",
  )
    .bind(id, runId, over.rail ?? 'nacha', state, over.count, over.total, over.fee, over.required, over.createdAt, over.createdAt, state === 'draft' || state === 'approved' ? null : over.createdAt + 1000, state === 'settled' ? over.createdAt + 2000 : null)
    .run()
  return id
}

beforeAll(async () => {
  // one open payout per creator and currency: one creator per payout
  f = await seedCreatorWithPayouts(env)
  g = await seedCreatorWithPayouts(env, { displayName: 'Gale Second' })
  h = await seedCreatorWithPayouts(env, { displayName: 'Hollis Third' })
  draft = await batch('draft', { count: 2, total: 6_000, fee: 50, required: 2, createdAt: T0 + 10 * 86_400_000 })
  draftPayouts = [
    await pendingPayout(env, { creatorId: f.creatorId, methodId: f.methodId, amountMinor: 4_000, feeMinor: 25, createdAtMs: T0 + 10 * 86_400_000, batchId: draft }),
    await pendingPayout(env, { creatorId: g.creatorId, methodId: g.methodId, amountMinor: 2_000, feeMinor: 25, createdAtMs: T0 + 10 * 86_400_000, batchId: draft }),
  ]
  await env.DB.prepare("INSERT INTO payout_batch_approvals (batch_id, user_id, roles, at_ms) VALUES (?, ?, '[\"finance\"]', ?)").bind(draft, firstApprover, T0).run()
  approvedBatch = await batch('approved', { count: 1, total: 1_000, fee: 25, required: 1, createdAt: T0 + 11 * 86_400_000 })
  await pendingPayout(env, { creatorId: h.creatorId, methodId: h.methodId, amountMinor: 1_000, feeMinor: 25, createdAtMs: T0 + 11 * 86_400_000, batchId: approvedBatch })
  submittedBatch = await batch('submitted', { count: 3, total: 123_456, fee: 75, required: 1, createdAt: T0 + 2 * 86_400_000 })
  settledBatch = await batch('settled', { count: 1, total: 5_000, fee: 25, required: 1, createdAt: T0 + 1 * 86_400_000 })
  await env.DB.prepare("INSERT INTO payout_runs (id, run_date, trigger, state, evaluated, created, refused, started_by, started_at_ms, finished_at_ms) VALUES (?, '2030-01-20', 'cron', 'done', 5, 2, 3, 'system:cron', ?, ?)")
    .bind(runId, T0 + 10 * 86_400_000, T0 + 10 * 86_400_000)
    .run()
  for (const code of ['kyc_not_verified', 'kyc_not_verified', 'method_cooling_off']) {
    await env.DB.prepare("INSERT INTO payout_refusals (id, run_id, creator_id, code, detail, at_ms) VALUES (?, ?, ?, ?, 'detail', ?)").bind(newId('payoutRefusal'), runId, newId('creator'), code, T0).run()
  }
  await env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status) VALUES ('dlq_p5_payout', 'fanz-payouts-dlq', 'm-p5', ?, 5, ?, 'open')")
    .bind(JSON.stringify({ type: 'payout.execute', id: 'msg_1', payload: { payoutId: f.settledId } }), T0)
    .run()
  await env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status) VALUES ('dlq_p5_media', 'fanz-media-ingest', 'm-p5-media', '{}', 5, ?, 'open')").bind(T0).run()
})

describe('FanzDash /payouts', () => {
  it('shows batches by state with approvals, the latest run refusals by code and payout cases', async () => {
    const res = await call(DASH, '/payouts', { token: await tokenFor(['finance']) })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const html = await res.text()
    const section = (id: string) => html.slice(html.indexOf(`<h2 id="${id}">`), html.indexOf('</section>', html.indexOf(`<h2 id="${id}">`)))
    expect(section('drafts-title')).toContain(`data-batch="${draft}" data-state="draft"`)
    expect(section('drafts-title')).toContain('<td data-approvals="1/2">1 of 2</td>')
    expect(section('drafts-title')).toContain('<td>60.00 USD</td><td>0.50 USD</td>')
    expect(section('approved-title')).toContain(approvedBatch)
    expect(section('submitted-title')).toContain(`data-batch="${submittedBatch}" data-state="submitted"`)
    expect(section('submitted-title')).toContain('<td>1234.56 USD</td><td>0.75 USD</td>')
    expect(section('finished-title')).toContain(`data-batch="${settledBatch}" data-state="settled"`)
    expect(section('finished-title')).not.toContain(draft)
    expect(html).toContain(`Run <code>${runId}</code> for 2030-01-20 (done): 5 evaluated, 2 payouts created, 3 refused.`)
    expect(html).toContain('<tr data-refusal="kyc_not_verified"><th scope="row"><code>kyc_not_verified</code></th><td>2</td></tr>')
    expect(html).toContain('<tr data-refusal="method_cooling_off"><th scope="row"><code>method_cooling_off</code></th><td>1</td></tr>')
    expect(section('cases-title')).toContain(`<code>dlq_p5_payout</code></th><td><code>${f.settledId}</code></td><td>payout.execute (fanz-payouts-dlq)</td><td>5</td>`)
    expect(section('cases-title')).not.toContain('dlq_p5_media')
    expect(html).not.toContain('<script')
  })

  it('answers 401 without a token and 403 without payouts:read', async () => {
    expect((await call(DASH, '/payouts')).status).toBe(401)
    const res = await call(DASH, '/payouts', { token: await tokenFor(['operator']) })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('Payouts need the payouts:read permission')
    expect((await call(DASH, '/payouts', { token: await tokenFor(['compliance_officer']) })).status).toBe(200)
  })

  it('shows one batch with its payouts, approvals and the actions the viewer may take', async () => {
    const html = await (await call(DASH, `/payouts/batches/${draft}`, { token: await tokenFor(['finance']) })).text()
    expect(html).toContain(`<dd data-field="total">60.00 USD</dd>`)
    expect(html).toContain(`1 of 2: ${firstApprover} (finance)`)
    expect(html).toContain(`<tr data-payout="${draftPayouts[0]}" data-state="pending">`)
    expect(html).toContain('<td>Remy Payee</td>')
    expect(html).toContain('<td>ACH checking •••• 6789</td>')
    expect(html).toContain(`action="/payouts/batches/${draft}/approve"`)
    expect(html).toContain(`action="/payouts/batches/${draft}/cancel"`)
    expect(html).not.toContain('123456789')
    // a compliance officer reads, and is offered no action
    const readOnly = await (await call(DASH, `/payouts/batches/${draft}`, { token: await tokenFor(['compliance_officer']) })).text()
    expect(readOnly).not.toContain(`/payouts/batches/${draft}/approve`)
    expect((await call(DASH, `/payouts/batches/${newId('payoutBatch')}`, { token: await tokenFor(['finance']) })).status).toBe(404)
  })
})

describe('FanzDash batch actions (through the batch API)', () => {
  it('refuses a cross-site post and a sign-in without a recent second factor', async () => {
    const token = await tokenFor(['finance'])
    expect((await call(DASH, `/payouts/batches/${draft}/approve`, { method: 'POST', token, headers: { ...FORM, origin: 'http://evil.example' }, body: '' })).status).toBe(403)
    const weak = await call(DASH, `/payouts/batches/${draft}/approve`, { method: 'POST', token, headers: FORM, body: '' })
    expect(weak.status).toBe(403)
    const html = await weak.text()
    expect(html).toContain('step-up authentication required')
    expect(html).toContain('Sign in again with your second factor')
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM payout_batch_approvals WHERE batch_id = ?').bind(draft).first<{ n: number }>())!.n).toBe(1)
  })

  it('a second, distinct finance approver approves the draft; approving twice is refused', async () => {
    const approver = newId('user')
    const token = await strong(['finance'], approver)
    const res = await call(DASH, `/payouts/batches/${draft}/approve`, { method: 'POST', token, headers: FORM, body: '' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/payouts/batches/${draft}?done=approve`)
    expect(await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(draft).first()).toEqual({ state: 'approved' })
    const page = await (await call(DASH, `/payouts/batches/${draft}?done=approve`, { token })).text()
    expect(page).toContain('<dd data-field="state">Approved</dd>')
    expect(page).toContain('Done: approve.')
    expect(page).toContain(`action="/payouts/batches/${draft}/submit"`)
    // the batch is no longer a draft: the API's conflict is shown
    const again = await call(DASH, `/payouts/batches/${draft}/approve`, { method: 'POST', token, headers: FORM, body: '' })
    expect(again.status).toBe(409)
    expect(await again.text()).toContain('only a draft batch is approved')
  })

  it('the same person cannot give both approvals a large batch needs', async () => {
    const big = await batch('draft', { count: 0, total: 2_000_000, fee: 0, required: 2, createdAt: T0 + 12 * 86_400_000 })
    const token = await strong(['finance'])
    expect((await call(DASH, `/payouts/batches/${big}/approve`, { method: 'POST', token, headers: FORM, body: '' })).status).toBe(303)
    const page = await (await call(DASH, `/payouts/batches/${big}`, { token })).text()
    expect(page).toContain('<dd data-field="state">Draft</dd>')
    expect(page).toMatch(/<dd data-field="approvals">1 of 2: usr_/)
    const twice = await call(DASH, `/payouts/batches/${big}/approve`, { method: 'POST', token, headers: FORM, body: '' })
    expect(twice.status).toBe(409)
    expect(await twice.text()).toContain('the second approval must come from another person')
    expect(await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(big).first()).toEqual({ state: 'draft' })
  })

  it('cancels an approved batch with a reason: its payouts are cancelled and the holds voided', async () => {
    const before = (await ledgerFor(env, h.creatorId).balances('USD')).summary[0]!
    const token = await strong(['finance'])
    const res = await call(DASH, `/payouts/batches/${approvedBatch}/cancel`, { method: 'POST', token, headers: FORM, body: 'idempotency_key=dash-cancel-0f1e2d3c-test&reason=wrong+bank+file+date' })
    expect(res.status).toBe(303)
    expect(await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(approvedBatch).first()).toEqual({ state: 'cancelled' })
    expect(await env.DB.prepare('SELECT state, failure_reason FROM payouts WHERE batch_id = ?').bind(approvedBatch).first()).toEqual({ state: 'cancelled', failure_reason: 'wrong bank file date' })
    const after = (await ledgerFor(env, h.creatorId).balances('USD')).summary[0]!
    expect(after.availableMinor - before.availableMinor).toBe(1_000)
    expect(before.onHoldMinor - after.onHoldMinor).toBe(1_000)
    // a reason that is too short is the API's 422, named on the page
    const bad = await call(DASH, `/payouts/batches/${draft}/cancel`, { method: 'POST', token, headers: FORM, body: 'idempotency_key=dash-cancel-1a2b3c4d-test&reason=no' })
    expect(bad.status).toBe(422)
    expect(await bad.text()).toContain('body.reason')
  })
})

describe('FanzDash, a large run whose holds the queue places', () => {
  it('shows how many of the run\'s ledger holds are placed while it is holding', async () => {
    const holdingRun = newId('payoutRun')
    await env.DB.prepare("INSERT INTO payout_runs (id, run_date, trigger, state, evaluated, created, refused, started_by, started_at_ms) VALUES (?, '2030-02-04', 'cron', 'holding', 3, 0, 0, 'system:cron', ?)")
      .bind(holdingRun, T0 + 30 * 86_400_000)
      .run()
    // three EUR payouts of the run (the fixtures' open payouts are USD), the first one held so far
    const rows = [f, g, h].map(() => newId('payout'))
    for (const [i, c] of [f, g, h].entries()) {
      await env.DB.prepare(
        `INSERT INTO payouts (id, creator_id, run_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, hold_id, idempotency_key, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, 'sepa', 'scheduled', 'EUR', 1000, 0, 1000, 'pending', ?, ?, ?, ?)`,
      )
        .bind(rows[i], c.creatorId, holdingRun, c.methodId, i === 0 ? 'hold:test' : null, rows[i], T0, T0)
        .run()
    }
    try {
      const html = await (await call(DASH, '/payouts', { token: await tokenFor(['finance']) })).text()
      expect(html).toContain(`Run <code>${holdingRun}</code> for 2030-02-04 (holding)`)
      expect(html).toContain('data-run-holds="1/3"')
      expect(html).toContain('The queue is placing the ledger holds of this run: 1 of 3 held; its batches are formed when the last chunk is done.')
    } finally {
      await env.DB.prepare("UPDATE payout_runs SET state = 'done', started_at_ms = 0 WHERE id = ?").bind(holdingRun).run()
      await env.DB.prepare(`DELETE FROM payouts WHERE id IN (?, ?, ?)`).bind(...rows).run()
    }
  })
})

describe('FanzDash submit', () => {
  it('submits an approved sandbox batch through the batch API: its payouts leave pending', async () => {
    const s1 = await seedCreatorWithPayouts(env, { displayName: 'Sam Submitted' })
    const approved = await batch('approved', { count: 1, total: 2_500, fee: 0, required: 1, createdAt: T0 + 14 * 86_400_000, rail: 'sandbox' })
    const payout = await pendingPayout(env, { creatorId: s1.creatorId, methodId: s1.methodId, amountMinor: 2_500, feeMinor: 0, createdAtMs: T0 + 14 * 86_400_000, batchId: approved, rail: 'sandbox' })
    const token = await strong(['finance'])
    const page = await (await call(DASH, `/payouts/batches/${approved}`, { token })).text()
    const key = /name="idempotency_key" value="(dash-submit-[0-9a-f-]+)"/.exec(page)![1]!
    const res = await call(DASH, `/payouts/batches/${approved}/submit`, { method: 'POST', token, headers: FORM, body: `idempotency_key=${key}` })
    expect(res.status).toBe(303)
    expect(await env.DB.prepare('SELECT state FROM payout_batches WHERE id = ?').bind(approved).first()).toEqual({ state: 'submitted' })
    expect((await env.DB.prepare('SELECT state FROM payouts WHERE id = ?').bind(payout).first<{ state: string }>())!.state).not.toBe('pending')
    // the same form sent twice is the API's stored replay, not a second submission
    expect((await call(DASH, `/payouts/batches/${approved}/submit`, { method: 'POST', token, headers: FORM, body: `idempotency_key=${key}` })).status).toBe(303)
  })
})

describe('FanzDash open cases', () => {
  it('lists a payout whose retries are exhausted with its state, and resolves it through the payout API', async () => {
    const k = await seedCreatorWithPayouts(env, { displayName: 'Kit Stuck' })
    const stuck = await pendingPayout(env, { creatorId: k.creatorId, methodId: k.methodId, amountMinor: 7_000, feeMinor: 25, createdAtMs: T0 + 13 * 86_400_000, batchId: submittedBatch })
    await transitionPayout(env, stuck, ['pending'], 'queued', { failure_code: 'retries_exhausted', failure_reason: 'the queue gave up after 6 deliveries' })
    await env.DB.prepare("INSERT INTO dead_letters (id, queue, message_id, body_json, attempts, received_at_ms, status) VALUES ('dlq_p5_stuck', 'fanz-payouts-dlq', 'm-p5-stuck', ?, 6, ?, 'open')")
      .bind(JSON.stringify({ type: 'payout.execute', id: stuck, payload: { payoutId: stuck } }), T0 + 1)
      .run()
    const token = await strong(['finance'])
    const html = await (await call(DASH, '/payouts', { token })).text()
    expect(html).toContain(`<td data-payout-now="${stuck}">Kit Stuck, 70.00 USD, queued (retries_exhausted)</td>`)
    expect(html).toContain(`action="/payouts/cases/${stuck}/resolve"`)
    const before = (await ledgerFor(env, k.creatorId).balances('USD')).summary[0]!
    const res = await call(DASH, `/payouts/cases/${stuck}/resolve`, { method: 'POST', token, headers: FORM, body: 'idempotency_key=dash-resolve-5e6f7a8b-test&action=mark_failed&reason=processor+confirms+never+paid' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/payouts?resolved=${stuck}`)
    expect(await env.DB.prepare('SELECT state FROM payouts WHERE id = ?').bind(stuck).first()).toEqual({ state: 'failed' })
    expect(await env.DB.prepare("SELECT status FROM dead_letters WHERE id = 'dlq_p5_stuck'").first()).toEqual({ status: 'resolved' })
    const after = (await ledgerFor(env, k.creatorId).balances('USD')).summary[0]!
    expect(after.availableMinor - before.availableMinor).toBe(7_000)
    const page = await (await call(DASH, `/payouts?resolved=${stuck}`, { token })).text()
    expect(page).toContain(`Payout ${stuck}: resolution applied.`)
    expect(page).not.toContain('dlq_p5_stuck')
  })
})
