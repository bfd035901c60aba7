/**
 * Test helpers for the bank-file and returns tests (imported by *.test.ts only): fresh creators
 * with funded ledgers, sealed payout methods, payouts with their ledger holds and an approved batch,
 * inserted directly (the run and the submit path are built elsewhere), and tokens.
 * @module
 */
import { env } from 'cloudflare:workers'
import type { PayoutRail } from '../../../d1/schema/payouts'
import type { Role } from '../../edge/roles'
import { ledgerFor } from '../../ledger/stub'
import { newId } from '../../lib/ids'
import { placeHold } from '../lifecycle'
import { parsePayoutMethod, type PayoutMethod } from '../methods/methods'
import { sealMethod } from '../methods/sealed'
import { call } from '../../../test/helpers'
import { SANDBOX_BANK_ACCOUNTS } from './bank-accounts'
import { writeNachaReturnFile, type NachaReturnFileInput } from './nacha/return-writer'

export const API = 'api.localhost'
const BRAND_ID = 'brd_01JFANZ0000000000000000001'

export async function mint(body: { roles: Role[]; subject?: string; amr?: string[]; auth_age_seconds?: number }): Promise<string> {
  const res = await call(API, '/api/dev/tokens', { headers: { 'x-dev-token-secret': env.DEV_TOKEN_SECRET }, body })
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** Two factors, just now: passes PAYOUT_FILES_STEP_UP. */
export const strong = (roles: Role[], subject?: string) => mint({ roles, subject, amr: ['pwd', 'otp', 'mfa'] })
/** The dev token's single `dev` factor: fails a strong step-up. */
export const weak = (roles: Role[]) => mint({ roles })

export async function newCreator(): Promise<string> {
  const id = newId('creator')
  await env.DB.prepare('INSERT INTO creators (id, brand_id, handle, display_name, bio, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').bind(id, BRAND_ID, id.toLowerCase(), 'Payout Test', '', Date.now()).run()
  return id
}

/** Gives the creator profile a FanzSSO account (for the mail a return sends); returns its email. */
export async function withAccount(creatorId: string): Promise<string> {
  const userId = newId('user')
  const email = `${userId.toLowerCase()}@example.com`
  const now = Date.now()
  await env.DB.prepare('INSERT INTO users (id, email, email_normalized, email_verified_at_ms, password_hash, display_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)').bind(userId, email, email, now, 'Payout Test', now, now).run()
  await env.DB.prepare('UPDATE creators SET user_id = ? WHERE id = ?').bind(userId, creatorId).run()
  return email
}

export async function fund(creatorId: string, currency: string, amountMinor: number): Promise<void> {
  const r = await ledgerFor(env, creatorId).adjust({ opId: `test-fund:${creatorId}:${currency}`, currency, direction: 'credit', amountMinor, reason: 'test funding', actor: 'system:test' })
  if (!r.ok) throw new Error(`fund failed: ${r.code}`)
}

export async function summary(creatorId: string, currency: string) {
  const b = await ledgerFor(env, creatorId).balances(currency)
  return b.summary[0]!
}

const RAILS: Record<PayoutMethod['type'], PayoutRail> = { ach: 'nacha', sepa: 'sepa', wire: 'wire', check: 'check', paxum: 'paxum', epayservice: 'epayservice', wise: 'wise', payoneer: 'payoneer', crypto: 'crypto_custodian' }

export async function addMethod(creatorId: string, input: unknown, currency: string): Promise<{ id: string; method: PayoutMethod }> {
  const parsed = parsePayoutMethod(input)
  if (!parsed.ok) throw new Error(`bad test method: ${JSON.stringify(parsed.errors)}`)
  const id = newId('payoutMethod')
  const sealed = await sealMethod(env, id, parsed.method)
  await env.DB.prepare(
    'INSERT INTO payout_methods (id, creator_id, type, rail, currency, summary, details_sealed, usable_from_ms, is_default, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)',
  )
    .bind(id, creatorId, parsed.method.type, RAILS[parsed.method.type], currency, `${parsed.method.type} test`, sealed, 0, 'system:test', Date.now())
    .run()
  return { id, method: parsed.method }
}

export async function addBatch(rail: PayoutRail, currency: string): Promise<string> {
  const id = newId('payoutBatch')
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payout_batches (id, rail, currency, state, count, total_minor, fee_minor, approvals_required, created_by, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'approved', 0, 0, 0, 1, 'system:test', ?, ?)`,
  )
    .bind(id, rail, currency, now, now)
    .run()
  return id
}

/** A payout in `batchId` with its hold placed, `queued` as a submitted batch leaves it. */
export async function addPayout(p: { creatorId: string; methodId: string; batchId: string; rail: PayoutRail; currency: string; amountMinor: number; feeMinor: number }): Promise<string> {
  const id = newId('payout')
  const now = Date.now()
  await env.DB.prepare(
    `INSERT INTO payouts (id, creator_id, batch_id, method_id, rail, kind, currency, amount_minor, fee_minor, net_minor, state, idempotency_key, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  )
    .bind(id, p.creatorId, p.batchId, p.methodId, p.rail, p.currency, p.amountMinor, p.feeMinor, p.amountMinor - p.feeMinor, `payout:${id}`, now, now)
    .run()
  const hold = await placeHold(env, { id, creatorId: p.creatorId, currency: p.currency, amountMinor: p.amountMinor })
  if (!hold.ok) throw new Error(`hold failed: ${hold.code}`)
  await env.DB.prepare(`UPDATE payouts SET hold_id = ?, state = 'queued' WHERE id = ?`).bind(hold.holdId, id).run()
  await env.DB.prepare('UPDATE payout_batches SET count = count + 1, total_minor = total_minor + ?, fee_minor = fee_minor + ? WHERE id = ?').bind(p.amountMinor, p.feeMinor, p.batchId).run()
  return id
}

export const ACH_INDIVIDUAL = { type: 'ach', routingNumber: '011000015', accountNumber: '123456789', accountType: 'checking', accountHolderName: 'ALEX RIVERS', holderType: 'individual' }
export const ACH_SAVINGS = { type: 'ach', routingNumber: '231380104', accountNumber: '987654321', accountType: 'savings', accountHolderName: 'SAM STONE' }
export const ACH_BUSINESS = { type: 'ach', routingNumber: '021000021', accountNumber: '5550001234', accountType: 'checking', accountHolderName: 'RIVERS MEDIA LLC', holderType: 'business' }

export const SEPA_ANNA = {
  type: 'sepa',
  iban: 'DE02 1203 0000 0000 2020 51',
  bic: 'BYLADEM1001',
  name: 'Anna Müller',
  address: { streetName: 'Hauptstraße', buildingNumber: '5', postCode: '10115', townName: 'Berlin', country: 'DE' },
}
export const SEPA_JEAN = { type: 'sepa', iban: 'FR1420041010050500013M02606', bic: 'PSSTFRPPXXX', name: 'Jean Dupont', address: { townName: 'Paris', country: 'FR', addressLines: ['12 rue de Rivoli'] } }

/** A return file from the sandbox ODFI: returned `entries` (addenda 99) and notifications of change (addenda 98). */
export function sandboxReturnFile(entries: NachaReturnFileInput['entries'], corrections: NachaReturnFileInput['corrections'] = []): string {
  return writeNachaReturnFile({
    odfiRouting: SANDBOX_BANK_ACCOUNTS.nacha.immediateDestination,
    immediateOrigin: '231380104',
    fileCreationDate: '2026-11-30',
    fileCreationTime: '06:00',
    companyName: SANDBOX_BANK_ACCOUNTS.nacha.companyName,
    companyIdentification: SANDBOX_BANK_ACCOUNTS.nacha.companyIdentification,
    secCode: 'PPD',
    companyEntryDescription: 'PAYROLL',
    entries,
    corrections,
  })
}
