/**
 * KYC verifications: opening one, applying the provider's signed results, an officer's review, and
 * a subject's standing for other subsystems.
 *
 * What lives where: D1 (`kyc_verifications`) keeps what the platform needs to act without opening
 * the vault — status, reason, provider and session reference, and the document's type, issuing
 * country and expiry date (the expiry job runs on that date; type and country tell an officer which
 * rules apply). Names, date of birth and document number are personal data we need only for
 * inspection and review: they exist only inside the sealed provider decision (vault object of kind
 * `provider_decision`, the exact signed bytes, so the signature can be checked again later) and the
 * sealed ID images (`id_document_front`, ...), both on record type `kyc_verification`.
 * @module
 */
import { and, asc, desc, eq, gt, or } from 'drizzle-orm'
import { z } from 'zod'
import { creators, kycVerifications, performerRecords, vaultObjects } from '../../../d1/schema'
import { audit, type AuditContext } from '../../compliance/audit'
import { db } from '../../lib/db'
import { cursorOf, encodeCursor } from '../../lib/pagination'
import { putSealed, type DataRegion } from '../store'
import type { KycProvider } from './providers'
import { canTransition, type KycStatus } from './status'
import type { VeriffDecisionBody, VeriffWebhook } from './veriff'

export type KycVerification = typeof kycVerifications.$inferSelect
export type SubjectType = KycVerification['subjectType']

export const RECORD_TYPE = 'kyc_verification'
export const DECISION_KIND = 'provider_decision'
export const ADULT_AGE = 18

export interface SubjectInfo {
  userId: string | null
  region: DataRegion
}

/** The creator or performer record being verified, or null when there is none. */
export async function subjectInfo(env: Env, type: SubjectType, id: string): Promise<SubjectInfo | null> {
  const d = db(env.DB)
  if (type === 'performer') {
    const row = await d.select({ userId: performerRecords.userId, region: performerRecords.dataRegion }).from(performerRecords).where(eq(performerRecords.id, id)).get()
    return row ? { userId: row.userId, region: row.region } : null
  }
  const creator = await d.select({ userId: creators.userId }).from(creators).where(eq(creators.id, id)).get()
  if (!creator) return null
  // a creator who is also a performer of record keeps their vault data where that record says
  const record = creator.userId ? await d.select({ region: performerRecords.dataRegion }).from(performerRecords).where(eq(performerRecords.userId, creator.userId)).get() : undefined
  return { userId: creator.userId, region: record?.region ?? 'global' }
}

export async function verificationById(env: Env, id: string): Promise<KycVerification | null> {
  return (await db(env.DB).select().from(kycVerifications).where(eq(kycVerifications.id, id)).get()) ?? null
}

export async function insertVerification(env: Env, row: Pick<KycVerification, 'id' | 'subjectType' | 'subjectId' | 'userId' | 'provider' | 'providerSessionId'>, nowMs: number): Promise<KycVerification> {
  const full: KycVerification = {
    ...row,
    status: 'created',
    reason: null,
    documentType: null,
    documentCountry: null,
    documentExpiresOn: null,
    verifiedAtMs: null,
    reviewedBy: null,
    reminderSentAtMs: null,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  }
  await db(env.DB).insert(kycVerifications).values(full)
  return full
}

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Whole years between an ISO date of birth and an ISO day. */
export function ageOn(dateOfBirth: string, day: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number]
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0)
}

export interface Outcome {
  status: KycStatus
  reason: string | null
  documentType: string | null
  documentCountry: string | null
  documentExpiresOn: string | null
}

/**
 * Our decision from the provider's. The provider checks that the document is genuine and the face
 * matches; we add what the platform's law needs: an adult (18 U.S.C. 2257, compliance.md), a date of
 * birth to prove it, and a document still valid today.
 */
export function outcomeOf(verification: VeriffDecisionBody['verification'], nowMs: number): Outcome {
  const doc = verification.document
  const document = { documentType: doc?.type ?? null, documentCountry: doc?.country ?? null, documentExpiresOn: doc?.validUntil ?? null }
  const providerReason = verification.reason ? `${verification.reasonCode != null ? `${verification.reasonCode}: ` : ''}${verification.reason}` : null
  switch (verification.status) {
    case 'approved': {
      const today = isoDay(nowMs)
      const dob = verification.person?.dateOfBirth
      if (!dob) return { status: 'review', reason: 'date_of_birth_missing', ...document }
      if (ageOn(dob, today) < ADULT_AGE) return { status: 'declined', reason: 'underage', ...document }
      if (document.documentExpiresOn && document.documentExpiresOn <= today) return { status: 'resubmission_requested', reason: 'document_expired', ...document }
      return { status: 'approved', reason: null, ...document }
    }
    case 'declined':
      return { status: 'declined', reason: providerReason ?? 'declined_by_provider', ...document }
    case 'resubmission_requested':
      return { status: 'resubmission_requested', reason: providerReason ?? 'resubmission_requested_by_provider', ...document }
    case 'review':
      return { status: 'review', reason: providerReason ?? 'provider_review', ...document }
    case 'expired':
      return { status: 'expired', reason: 'session_expired', ...document }
    case 'abandoned':
      return { status: 'expired', reason: 'session_abandoned', ...document }
  }
}

export type WebhookResult =
  | { outcome: 'applied'; verificationId: string; from: KycStatus; to: KycStatus }
  | { outcome: 'duplicate'; verificationId: string; status: KycStatus }
  | { outcome: 'ignored'; verificationId: string; status: KycStatus; proposed: KycStatus }
  | { outcome: 'unknown_session' }

/**
 * Applies one verified provider webhook. Duplicates (same session, same resulting status) change
 * and store nothing; a transition the table refuses is ignored (audited, nothing stored). An applied
 * decision's raw body is sealed before the status changes, so an approved verification always has
 * its evidence; the update is conditional on the status read, so a concurrent duplicate loses.
 */
export async function applyWebhook(env: Env, ctx: AuditContext, provider: KycProvider, raw: Uint8Array, webhook: VeriffWebhook, nowMs = Date.now()): Promise<WebhookResult> {
  const sessionId = webhook.kind === 'decision' ? webhook.body.verification.id : webhook.body.id
  const vendorData = webhook.kind === 'decision' ? webhook.body.verification.vendorData : webhook.body.vendorData
  const row = await db(env.DB)
    .select()
    .from(kycVerifications)
    .where(and(eq(kycVerifications.provider, provider), eq(kycVerifications.providerSessionId, sessionId)))
    .get()
  // a session of another integration, or one whose vendorData is not the verification we opened it for
  if (!row || (vendorData && vendorData !== row.id)) return { outcome: 'unknown_session' }

  let target: Outcome
  if (webhook.kind === 'event') {
    if (webhook.body.action !== 'submitted') return { outcome: 'duplicate', verificationId: row.id, status: row.status }
    target = { status: 'submitted', reason: null, documentType: row.documentType, documentCountry: row.documentCountry, documentExpiresOn: row.documentExpiresOn }
  } else target = outcomeOf(webhook.body.verification, nowMs)

  if (target.status === row.status) return { outcome: 'duplicate', verificationId: row.id, status: row.status }
  const subject = `kyc:${row.id}`
  if (!canTransition(row.status, target.status, 'provider')) {
    await audit(ctx, 'vault.kyc.webhook_ignored', subject, { provider, status: row.status, proposed: target.status })
    return { outcome: 'ignored', verificationId: row.id, status: row.status, proposed: target.status }
  }
  if (webhook.kind === 'decision') {
    const info = await subjectInfo(env, row.subjectType, row.subjectId)
    await putSealed(env, { recordType: RECORD_TYPE, recordId: row.id, kind: DECISION_KIND, contentType: 'application/json', bytes: raw, region: info?.region ?? 'global', createdBy: `kyc_provider:${provider}` }, nowMs)
  }
  const changed = await env.DB.prepare(
    `UPDATE kyc_verifications SET status = ?, reason = ?, document_type = ?, document_country = ?, document_expires_on = ?,
       verified_at_ms = CASE WHEN ? = 'approved' THEN ? ELSE verified_at_ms END, reminder_sent_at_ms = NULL, updated_at_ms = ?
     WHERE id = ? AND status = ?`,
  )
    .bind(target.status, target.reason, target.documentType, target.documentCountry, target.documentExpiresOn, target.status, nowMs, nowMs, row.id, row.status)
    .run()
  if (changed.meta.changes !== 1) {
    const now = await verificationById(env, row.id)
    return { outcome: 'duplicate', verificationId: row.id, status: now?.status ?? row.status }
  }
  await audit(ctx, 'vault.kyc.decision', subject, {
    provider,
    from: row.status,
    to: target.status,
    reason: target.reason,
    ...(webhook.kind === 'decision' ? { provider_status: webhook.body.verification.status, provider_code: webhook.body.verification.code ?? null } : { provider_action: webhook.body.action }),
  })
  return { outcome: 'applied', verificationId: row.id, from: row.status, to: target.status }
}

export const REVIEW_DECISIONS = { approve: 'approved', decline: 'declined', resubmission_requested: 'resubmission_requested' } as const satisfies Record<string, KycStatus>
export type ReviewDecision = keyof typeof REVIEW_DECISIONS

/** An officer's decision on a verification in review; false when it was not (or no longer) in review. */
export async function reviewVerification(env: Env, row: KycVerification, decision: ReviewDecision, reason: string, officer: string, nowMs = Date.now()): Promise<KycVerification | null> {
  const to = REVIEW_DECISIONS[decision]
  if (!canTransition(row.status, to, 'officer')) return null
  const changed = await env.DB.prepare(
    `UPDATE kyc_verifications SET status = ?, reason = ?, reviewed_by = ?, verified_at_ms = CASE WHEN ? = 'approved' THEN ? ELSE verified_at_ms END, updated_at_ms = ?
     WHERE id = ? AND status = ?`,
  )
    .bind(to, reason, officer, to, nowMs, nowMs, row.id, row.status)
    .run()
  return changed.meta.changes === 1 ? verificationById(env, row.id) : null
}

export interface Standing {
  verified: boolean
  status: KycStatus | 'none'
  verification_id: string | null
  verified_at_ms: number | null
  document_expires_on: string | null
}

/** Whether a creator or performer is KYC-verified now: the latest verification approved and its document not expired. */
export async function kycStanding(env: Env, type: SubjectType, id: string, nowMs = Date.now()): Promise<Standing> {
  const latest = await db(env.DB)
    .select()
    .from(kycVerifications)
    .where(and(eq(kycVerifications.subjectType, type), eq(kycVerifications.subjectId, id)))
    .orderBy(desc(kycVerifications.createdAtMs), desc(kycVerifications.id))
    .limit(20)
    .all()
  // an open retry must not hide a still valid approval: the newest approval counts if there is one
  const approved = latest.find((v) => v.status === 'approved')
  const current = approved ?? latest[0]
  if (!current) return { verified: false, status: 'none', verification_id: null, verified_at_ms: null, document_expires_on: null }
  const valid = current.status === 'approved' && (!current.documentExpiresOn || current.documentExpiresOn > isoDay(nowMs))
  return { verified: valid, status: current.status, verification_id: current.id, verified_at_ms: current.verifiedAtMs, document_expires_on: current.documentExpiresOn }
}

const QueueCursor = z.object({ u: z.number().int(), id: z.string() })

/** Verifications waiting for an officer, oldest first (the longest waiting is decided first). */
export async function reviewQueue(env: Env, cursor: string | undefined, limit: number): Promise<{ rows: KycVerification[]; next_cursor: string | null }> {
  const after = cursorOf(cursor, QueueCursor)
  const rows = await db(env.DB)
    .select()
    .from(kycVerifications)
    .where(
      and(
        eq(kycVerifications.status, 'review'),
        after ? or(gt(kycVerifications.updatedAtMs, after.u), and(eq(kycVerifications.updatedAtMs, after.u), gt(kycVerifications.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(kycVerifications.updatedAtMs), asc(kycVerifications.id))
    .limit(limit + 1)
    .all()
  const page = rows.slice(0, limit)
  return { rows: page, next_cursor: rows.length > limit ? encodeCursor({ u: page.at(-1)!.updatedAtMs, id: page.at(-1)!.id }) : null }
}

/** The sealed objects of a verification (decisions and ID images), newest first. */
export async function sealedObjectsOf(env: Env, verificationId: string) {
  return db(env.DB)
    .select()
    .from(vaultObjects)
    .where(and(eq(vaultObjects.recordType, RECORD_TYPE), eq(vaultObjects.recordId, verificationId)))
    .orderBy(desc(vaultObjects.createdAtMs), desc(vaultObjects.id))
    .all()
}
