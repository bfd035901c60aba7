/**
 * KYC verification statuses and who may move a verification from one to another. One table, so the
 * webhook, the review desk and the expiry job cannot disagree about what a late message may change.
 *
 * Decisions about late or repeated provider messages:
 * - `declined` and `expired` are final: a new verification (a new provider session) is the only way
 *   forward. A late `approved` after a decline is ignored, never applied: a negative finding is not
 *   undone by a message that may be a retry of an older attempt.
 * - `approved` may still become `declined` by the provider: Veriff re-decides a session after its own
 *   post-decision checks (a fraud finding), and revoking is the safe direction. Nothing else may
 *   touch an approval except the expiry job (`expired`, the ID document ran out).
 * - `review` (the provider's or ours) ends with the provider's final decision or an officer's.
 * - `resubmission_requested` is not final: the subject retries inside the same provider session.
 * @module
 */

export const KYC_STATUSES = ['created', 'submitted', 'approved', 'declined', 'review', 'resubmission_requested', 'expired'] as const
export type KycStatus = (typeof KYC_STATUSES)[number]

/** Who is changing the status: the provider's signed webhook, a compliance officer, the expiry job. */
export type TransitionSource = 'provider' | 'officer' | 'expiry'

const PROVIDER: Record<KycStatus, readonly KycStatus[]> = {
  created: ['submitted', 'approved', 'declined', 'review', 'resubmission_requested', 'expired'],
  submitted: ['approved', 'declined', 'review', 'resubmission_requested', 'expired'],
  resubmission_requested: ['submitted', 'approved', 'declined', 'review', 'expired'],
  review: ['approved', 'declined', 'resubmission_requested'],
  approved: ['declined'],
  declined: [],
  expired: [],
}

const OFFICER: Record<KycStatus, readonly KycStatus[]> = {
  created: [],
  submitted: [],
  resubmission_requested: [],
  review: ['approved', 'declined', 'resubmission_requested'],
  approved: [],
  declined: [],
  expired: [],
}

const EXPIRY: Record<KycStatus, readonly KycStatus[]> = {
  created: [],
  submitted: [],
  resubmission_requested: [],
  review: [],
  approved: ['expired'],
  declined: [],
  expired: [],
}

const TABLES: Record<TransitionSource, Record<KycStatus, readonly KycStatus[]>> = { provider: PROVIDER, officer: OFFICER, expiry: EXPIRY }

export function canTransition(from: KycStatus, to: KycStatus, source: TransitionSource): boolean {
  return TABLES[source][from].includes(to)
}

/** Statuses from which nothing but a new verification leads on. */
export function isFinal(status: KycStatus): boolean {
  return status === 'declined' || status === 'expired'
}
