import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * HubVault metadata. The sensitive bytes (ID images, legal names, dates of birth, signed releases)
 * are never here: each lives in the vault R2 bucket as an envelope-encrypted object
 * (workers/vault/envelope.ts), and this table holds its wrapped data key. Layout and key
 * hierarchy: r2/vault/storage-schema.md.
 */
export const vaultObjects = sqliteTable(
  'vault_objects',
  {
    /** `vob_` + ULID; also the object id authenticated in the ciphertext */
    id: text('id').primaryKey(),
    /** the record the object belongs to (authenticated with it): `kyc_verification`, `performer_record`, `performer_media` */
    recordType: text('record_type').notNull(),
    recordId: text('record_id').notNull(),
    /** what it is: `id_document_front`, `id_document_back`, `selfie`, `record_json`, `consent`, `model_release`, `depiction_copy`, ... */
    kind: text('kind').notNull(),
    contentType: text('content_type').notNull(),
    /** plaintext length and SHA-256 (hex): integrity of the legible copy 28 CFR 75.2 asks for */
    byteLength: integer('byte_length').notNull(),
    sha256Hex: text('sha256_hex').notNull(),
    /** which bucket binding holds it: `VAULT` (global) or `VAULT_EU` (EU jurisdiction) */
    bucket: text('bucket', { enum: ['VAULT', 'VAULT_EU'] }).notNull(),
    r2Key: text('r2_key').notNull(),
    /** the KEK version that wraps the data key; rotation rewrites these two columns only */
    kekVersion: text('kek_version').notNull(),
    wrappedDek: text('wrapped_dek').notNull(),
    /** no deletion before this instant (2257: 7 years from creation or last amendment) */
    retainUntilMs: integer('retain_until_ms'),
    retentionBasis: text('retention_basis'),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    rewrappedAtMs: integer('rewrapped_at_ms'),
    /** set when the bytes were destroyed after retention (the row stays as the proof) */
    destroyedAtMs: integer('destroyed_at_ms'),
  },
  (t) => [index('vault_objects_record_idx').on(t.recordType, t.recordId), index('vault_objects_kek_idx').on(t.kekVersion)],
)

/**
 * Identity verification of a creator or performer (KYC): a session at a provider (ID document +
 * liveness), its signed result, and manual review by a compliance officer when needed.
 */
export const kycVerifications = sqliteTable(
  'kyc_verifications',
  {
    /** `kyc_` + ULID */
    id: text('id').primaryKey(),
    subjectType: text('subject_type', { enum: ['creator', 'performer'] }).notNull(),
    /** the creator (`crt_`) or performer record (`prf_`) being verified */
    subjectId: text('subject_id').notNull(),
    /** the FanzSSO account, when the subject has one */
    userId: text('user_id'),
    provider: text('provider').notNull(),
    providerSessionId: text('provider_session_id'),
    status: text('status', { enum: ['created', 'submitted', 'approved', 'declined', 'review', 'resubmission_requested', 'expired'] }).notNull(),
    reason: text('reason'),
    documentType: text('document_type'),
    /** ISO 3166-1 alpha-2 of the issuing state */
    documentCountry: text('document_country'),
    /** ISO date (YYYY-MM-DD) the ID document expires: re-verification is due before it */
    documentExpiresOn: text('document_expires_on'),
    verifiedAtMs: integer('verified_at_ms'),
    reviewedBy: text('reviewed_by'),
    reminderSentAtMs: integer('reminder_sent_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [
    index('kyc_subject_idx').on(t.subjectType, t.subjectId, t.createdAtMs),
    index('kyc_status_idx').on(t.status, t.updatedAtMs),
    uniqueIndex('kyc_provider_session_uq').on(t.provider, t.providerSessionId),
    index('kyc_expiry_idx').on(t.documentExpiresOn),
  ],
)

/**
 * A visitor's age verification: only method, result, provider reference, time, jurisdiction and
 * expiry, never the images or the date of birth (US state AV laws forbid keeping them).
 */
export const ageVerifications = sqliteTable(
  'age_verifications',
  {
    /** `avf_` + ULID */
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    /** compliance.md §5 method codes: ID_DOC, FAE, CC, DIGITAL_ID, ... */
    method: text('method').notNull(),
    provider: text('provider').notNull(),
    providerRef: text('provider_ref'),
    status: text('status', { enum: ['pending', 'passed', 'failed', 'expired'] }).notNull(),
    /** `country[-region]` the check was made for */
    jurisdiction: text('jurisdiction').notNull(),
    verifiedAtMs: integer('verified_at_ms'),
    expiresAtMs: integer('expires_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [index('age_verifications_user_idx').on(t.userId, t.createdAtMs), uniqueIndex('age_verifications_provider_ref_uq').on(t.provider, t.providerRef)],
)

/**
 * An 18 U.S.C. 2257 performer record. The content (legal name, date of birth, ID document
 * references, every alias) is in the sealed versions; this row carries what indexes and retention
 * need: blind-index names for search, and the retention clock.
 */
export const performerRecords = sqliteTable(
  'performer_records',
  {
    /** `prf_` + ULID */
    id: text('id').primaryKey(),
    /** the FanzSSO account of the performer, when they have one (creators do) */
    userId: text('user_id'),
    currentVersion: integer('current_version').notNull(),
    kycVerificationId: text('kyc_verification_id'),
    /** where the records are kept for this performer's depictions: the brand's custodian of records */
    custodianBrandId: text('custodian_brand_id').notNull(),
    /** EU performers' vault data stays in the EU bucket */
    dataRegion: text('data_region', { enum: ['global', 'eu'] }).notNull().default('global'),
    createdAtMs: integer('created_at_ms').notNull(),
    lastAmendedAtMs: integer('last_amended_at_ms').notNull(),
    /** max(created, last amended) + 7 years (28 CFR 75.4); recomputed on every amendment */
    retainUntilMs: integer('retain_until_ms').notNull(),
  },
  (t) => [index('performer_records_user_idx').on(t.userId), index('performer_records_custodian_idx').on(t.custodianBrandId)],
)

/** Amendments append a version; nothing is overwritten (a trigger refuses UPDATE and DELETE). */
export const performerRecordVersions = sqliteTable(
  'performer_record_versions',
  {
    performerId: text('performer_id').notNull(),
    version: integer('version').notNull(),
    /** the sealed record JSON at this version (`vault_objects`, kind `record_json`) */
    objectId: text('object_id').notNull(),
    reason: text('reason').notNull(),
    amendedBy: text('amended_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.performerId, t.version] })],
)

/**
 * Searchable names without storing them: HMAC-SHA-256 (under a key derived from the vault keyring)
 * of the normalised legal name or alias. Exact-match search by name or alias; the names themselves
 * stay sealed.
 */
export const performerNameIndex = sqliteTable(
  'performer_name_index',
  {
    performerId: text('performer_id').notNull(),
    kind: text('kind', { enum: ['legal_name', 'alias'] }).notNull(),
    blindIndex: text('blind_index').notNull(),
    /** the record version that introduced the name (aliases accumulate, never vanish) */
    sinceVersion: integer('since_version').notNull(),
  },
  (t) => [primaryKey({ columns: [t.performerId, t.kind, t.blindIndex] }), index('performer_name_index_lookup_idx').on(t.blindIndex)],
)

/**
 * Every depiction a performer appears in: title, production date, every URL across brands, and the
 * signed consent and model release (sealed objects). Append-only like the record versions.
 */
export const performerMedia = sqliteTable(
  'performer_media',
  {
    performerId: text('performer_id').notNull(),
    /** MediaHub's media id */
    mediaId: text('media_id').notNull(),
    brandId: text('brand_id').notNull(),
    title: text('title').notNull(),
    /** ISO date of (original) production */
    productionDate: text('production_date').notNull(),
    /** JSON array of every URL the depiction is published at */
    urlsJson: text('urls_json').notNull(),
    consentObjectId: text('consent_object_id').notNull(),
    releaseObjectId: text('release_object_id').notNull(),
    /** secondary producers record the primary producer (75.2(b)): JSON { name, address } or null */
    primaryProducerJson: text('primary_producer_json'),
    linkedBy: text('linked_by').notNull(),
    linkedAtMs: integer('linked_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.performerId, t.mediaId] }), index('performer_media_media_idx').on(t.mediaId), index('performer_media_title_idx').on(t.title)],
)

/** One row per URL of a depiction, so the URL cross-index is a lookup, not a JSON scan. */
export const performerMediaUrls = sqliteTable(
  'performer_media_urls',
  {
    url: text('url').notNull(),
    performerId: text('performer_id').notNull(),
    mediaId: text('media_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.url, t.performerId, t.mediaId] })],
)

/**
 * Events that extend every 2257 record's retention (28 CFR 75.4): the producer ceasing business, or
 * the organisation dissolving, keeps the records 5 years after that date. Append-only.
 */
export const recordsRetentionEvents = sqliteTable('records_retention_events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind', { enum: ['business_ceased', 'organisation_dissolved'] }).notNull(),
  /** ISO date the business ceased or the organisation dissolved */
  effectiveOn: text('effective_on').notNull(),
  note: text('note').notNull(),
  recordedBy: text('recorded_by').notNull(),
  recordedAtMs: integer('recorded_at_ms').notNull(),
})
