/**
 * Test helpers for the payout rule/eligibility/run tests (imported by *.test.ts only): creators
 * with an SSO account, KYC verifications as the vault records them, payout methods through the
 * method store (sealed like the API does), funded ledgers (an `adjust` credit, then the projection
 * awaited), compliance holds.
 * @module
 */
import { env } from 'cloudflare:workers'
import { call } from '../../../test/helpers'
import type { Role } from '../../edge/roles'
import { newId } from '../../lib/ids'
import { ledgerFor } from '../../ledger/stub'
import { parsePayoutMethod } from '../methods/methods'
import { insertMethod } from '../methods/store'

export const API = 'api.localhost'
const BRAND_ID = 'brd_01JFANZ0000000000000000001'
const DAY_MS = 86_400_000

export async function mint(body: { roles: Role[]; subject?: string; amr?: string[]; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** a token after a recent two-factor sign-in (passes the instant payout step-up) */
export const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })

export interface TestCreator {
  creatorId: string
  userId: string
  token: string
}

export async function newCreator(): Promise<TestCreator> {
  const userId = newId('user')
  const creatorId = newId('creator')
  const nowMs = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, email_verified_at_ms, password_hash, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)')
    .bind(userId, `${userId.toLowerCase()}@example.com`, `${userId.toLowerCase()}@example.com`, nowMs, 'Payout Creator', nowMs, nowMs)
    .run()
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, user_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').bind(creatorId, BRAND_ID, creatorId.toLowerCase(), 'Payout Creator', userId, nowMs).run()
  return { creatorId, userId, token: await mint({ roles: ['fan', 'creator'], subject: userId }) }
}

/** a KYC verification row as the vault writes it */
export async function kyc(creatorId: string, status: string, options: { expiresOn?: string | null; createdAtMs?: number; id?: string } = {}): Promise<string> {
  const id = options.id ?? newId('kycVerification')
  const at = options.createdAtMs ?? Date.now()
  await env.DB.prepare(
    `INSERT INTO kyc_verifications (id, subject_type, subject_id, user_id, provider, provider_session_id, status, reason, document_type, document_country, document_expires_on, verified_at_ms, created_at_ms, updated_at_ms)
     VALUES (?, 'creator', ?, NULL, 'sandbox', ?, ?, NULL, 'PASSPORT', 'US', ?, ?, ?, ?)`,
  )
    .bind(id, creatorId, `sess_${id}`, status, options.expiresOn === undefined ? '2031-01-01' : options.expiresOn, status === 'approved' ? at : null, at, at)
    .run()
  return id
}

export const ACH = { type: 'ach', routingNumber: '021000021', accountNumber: '123456789', accountType: 'checking', accountHolderName: 'Alex Example' }
export const SEPA = { type: 'sepa', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', name: 'Alex Example', address: { streetName: 'Unter den Linden', buildingNumber: '77', postCode: '10117', townName: 'Berlin', country: 'DE' } }
export const PAXUM = { type: 'paxum', email: 'creator@example.com' }

/** a payout method through the method store; usable from `usableFromMs` (default: long past) */
export async function method(creatorId: string, raw: Record<string, unknown>, currency: string, options: { usableFromMs?: number; makeDefault?: boolean } = {}): Promise<string> {
  const parsed = parsePayoutMethod(raw)
  if (!parsed.ok) throw new Error(`bad test method: ${JSON.stringify(parsed.errors)}`)
  const id = newId('payoutMethod')
  const usableFromMs = options.usableFromMs ?? Date.now() - 30 * DAY_MS
  const row = await insertMethod(env, { id, creatorId, method: parsed.method, currency, createdBy: 'test', nowMs: usableFromMs, coolOffMs: 0, makeDefault: options.makeDefault ?? false })
  if (!row) throw new Error('method not inserted')
  return id
}

/** credits the creator's available balance and waits for the D1 projection */
export async function fund(creatorId: string, currency: string, amountMinor: number): Promise<void> {
  const ledger = ledgerFor(env, creatorId)
  const r = await ledger.adjust({ opId: `test:fund:${creatorId}:${currency}:${amountMinor}:${crypto.randomUUID()}`, currency, direction: 'credit', amountMinor, reason: 'test funding', actor: 'test' })
  if (!r.ok) throw new Error(`funding refused: ${r.code}`)
  await ledger.projectionSettled()
}

export async function complianceHold(creatorId: string): Promise<void> {
  await env.DB.prepare('INSERT INTO payout_compliance_holds (id, creator_id, reason, placed_by, placed_at_ms) VALUES (?, ?, ?, ?, ?)').bind(newId('payoutComplianceHold'), creatorId, 'test: fraud review', 'test', Date.now()).run()
}

export async function setRule(creatorId: string, rule: { kind: string; weekday?: number | null; threshold_minor?: number | null; dates_json?: string | null; currency: string; method_id?: string | null }): Promise<void> {
  await env.DB.prepare('INSERT OR REPLACE INTO payout_rules (creator_id, kind, weekday, threshold_minor, dates_json, currency, method_id, updated_by, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(creatorId, rule.kind, rule.weekday ?? null, rule.threshold_minor ?? null, rule.dates_json ?? null, rule.currency, rule.method_id ?? null, 'test', Date.now())
    .run()
}
