import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * MediaHub (workers/media). Bytes live in R2 (`MEDIA`, keys from r2/keys.ts `mediaKeys`); live upload
 * state in the `MediaUpload` Durable Object (one per upload); hash-list entries in the `HashIndex`
 * Durable Object (a multi-index over a million hashes does not belong in the main database). These
 * tables are the catalogue, the workflow around it and the search index.
 */

/**
 * uploading -> processing (ingest) -> quarantined (hash-list match: never published, a case is open)
 *                                  -> in_review (classifier done, waiting for a moderator)
 * in_review -> approved -> published (2257 record + consent for every performer) | rejected
 * published/approved -> removed (DMCA, consent withdrawal, terms): its hashes join the platform's list
 * processing -> failed (bytes unreadable: truncated, too large to fingerprint)
 */
export const MEDIA_STATUSES = ['uploading', 'processing', 'quarantined', 'in_review', 'rejected', 'approved', 'published', 'removed', 'failed'] as const
export type MediaStatus = (typeof MEDIA_STATUSES)[number]
export const MEDIA_KINDS = ['image', 'video'] as const
export type MediaKind = (typeof MEDIA_KINDS)[number]

export const mediaItems = sqliteTable(
  'media_items',
  {
    /** `med_` + ULID */
    id: text('id').primaryKey(),
    creatorId: text('creator_id').notNull(),
    brandId: text('brand_id').notNull(),
    kind: text('kind', { enum: MEDIA_KINDS }).notNull(),
    status: text('status', { enum: MEDIA_STATUSES }).notNull(),
    /** who may receive a delivery URL once published: the creator's subscribers, or anyone allowed in (teasers) */
    access: text('access', { enum: ['subscribers', 'public'] }).notNull().default('subscribers'),
    title: text('title').notNull().default(''),
    description: text('description').notNull().default(''),
    /** JSON array of lowercase tags */
    tagsJson: text('tags_json').notNull().default('[]'),
    /** the type read from the bytes (magic numbers), never the client's claim */
    mime: text('mime'),
    sizeBytes: integer('size_bytes'),
    width: integer('width'),
    height: integer('height'),
    durationMs: integer('duration_ms'),
    /** the original in MEDIA (mediaKeys.original), private until published */
    originalKey: text('original_key'),
    sha256: text('sha256'),
    md5: text('md5'),
    /** PDQ of an image (64 hex) and its quality 0-100; below 50 it is kept but never matched */
    pdqHex: text('pdq_hex'),
    pdqQuality: integer('pdq_quality'),
    /** the classifier's verdict and scores (JSON), set by ingest */
    classifierJson: text('classifier_json'),
    /**
     * images too large to decode in a Worker (above about 8 MP): the packager's downscaled display
     * rendition in MEDIA, which ingest fingerprints and delivery marks instead of the original
     */
    displayKey: text('display_key'),
    /** videos: the packager's A/B HLS variants are in R2 */
    hlsSegments: integer('hls_segments'),
    /** why it was rejected, removed or failed (a code from the workflow) */
    statusReason: text('status_reason'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
    publishedAtMs: integer('published_at_ms'),
    removedAtMs: integer('removed_at_ms'),
  },
  (t) => [
    index('media_items_creator_idx').on(t.creatorId, t.createdAtMs),
    index('media_items_status_idx').on(t.status, t.updatedAtMs),
    index('media_items_brand_status_idx').on(t.brandId, t.status, t.publishedAtMs),
    index('media_items_sha256_idx').on(t.sha256),
    index('media_items_md5_idx').on(t.md5),
  ],
)

/** Performers depicted in an item (vault performer records); publication needs each one's 2257 record and consent. */
export const mediaItemPerformers = sqliteTable(
  'media_item_performers',
  {
    itemId: text('item_id').notNull(),
    performerId: text('performer_id').notNull(),
    addedBy: text('added_by').notNull(),
    addedAtMs: integer('added_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.performerId] }), index('media_item_performers_performer_idx').on(t.performerId)],
)

/** Index of uploads (quota, expiry sweep, listing); the live offset and part list are in the MediaUpload object. */
export const mediaUploads = sqliteTable(
  'media_uploads',
  {
    /** `upl_` + ULID; also the MediaUpload object's name */
    id: text('id').primaryKey(),
    itemId: text('item_id').notNull(),
    creatorId: text('creator_id').notNull(),
    protocol: text('protocol', { enum: ['tus', 'multipart'] }).notNull(),
    /** bytes promised (null while a tus upload defers its length) */
    declaredLength: integer('declared_length'),
    receivedBytes: integer('received_bytes').notNull().default(0),
    status: text('status', { enum: ['open', 'completed', 'terminated', 'expired'] }).notNull(),
    /** tus Upload-Metadata / client metadata (JSON object of strings) */
    metadataJson: text('metadata_json').notNull().default('{}'),
    expiresAtMs: integer('expires_at_ms').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    completedAtMs: integer('completed_at_ms'),
  },
  (t) => [index('media_uploads_creator_idx').on(t.creatorId, t.status), index('media_uploads_expiry_idx').on(t.status, t.expiresAtMs)],
)

/** A creator's storage quota when it differs from the platform default (MEDIA_QUOTA_BYTES). */
export const mediaQuotas = sqliteTable('media_quotas', {
  creatorId: text('creator_id').primaryKey(),
  quotaBytes: integer('quota_bytes').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

/** Video keyframes hashed at ingest (frames from the packager), vPDQ style. */
export const mediaFrameHashes = sqliteTable(
  'media_frame_hashes',
  {
    itemId: text('item_id').notNull(),
    frameIndex: integer('frame_index').notNull(),
    timeMs: integer('time_ms').notNull(),
    pdqHex: text('pdq_hex').notNull(),
    quality: integer('quality').notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.frameIndex] })],
)

/**
 * Hash lists. Entries live in the HashIndex Durable Object (multi-index); this is the catalogue:
 * where a list comes from and what a match means.
 */
export const HASH_LIST_SOURCES = ['ncii', 'illegal_content', 'platform_removed', 'manual'] as const
export const mediaHashLists = sqliteTable('media_hash_lists', {
  /** `hl_` + ULID; `hl_platform_removed` is the platform's own list (seeded) */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  source: text('source', { enum: HASH_LIST_SOURCES }).notNull(),
  /** who supplies it (StopNCII, a provider's name, "platform") */
  provider: text('provider').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  entryCount: integer('entry_count').notNull().default(0),
  createdBy: text('created_by').notNull(),
  createdAtMs: integer('created_at_ms').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

export const mediaHashListImports = sqliteTable(
  'media_hash_list_imports',
  {
    /** `hli_` + ULID */
    id: text('id').primaryKey(),
    listId: text('list_id').notNull(),
    /** the file as received (EXPORTS, content-addressed) */
    objectKey: text('object_key').notNull(),
    sha256: text('sha256').notNull(),
    status: text('status', { enum: ['queued', 'running', 'done', 'failed'] }).notNull(),
    linesTotal: integer('lines_total').notNull().default(0),
    added: integer('added').notNull().default(0),
    duplicates: integer('duplicates').notNull().default(0),
    invalid: integer('invalid').notNull().default(0),
    /** first invalid lines with their reason (JSON, capped) */
    errorsJson: text('errors_json').notNull().default('[]'),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    finishedAtMs: integer('finished_at_ms'),
  },
  (t) => [uniqueIndex('media_hash_list_imports_file_uq').on(t.listId, t.sha256)],
)

/**
 * Cases opened by ingest or moderators: a hash-list match (the item is quarantined and blocked on
 * every brand), a classifier flag, an escalation. Resolved by compliance, never deleted.
 */
export const mediaCases = sqliteTable(
  'media_cases',
  {
    /** `mcs_` + ULID */
    id: text('id').primaryKey(),
    itemId: text('item_id').notNull(),
    kind: text('kind', { enum: ['hash_match', 'classifier', 'escalation', 'reupload'] }).notNull(),
    status: text('status', { enum: ['open', 'confirmed', 'dismissed'] }).notNull(),
    severity: text('severity', { enum: ['critical', 'high', 'normal'] }).notNull(),
    /** the list, entry and distance that matched (hash_match / reupload) */
    listId: text('list_id'),
    matchedHash: text('matched_hash'),
    distance: integer('distance'),
    detailsJson: text('details_json').notNull().default('{}'),
    openedAtMs: integer('opened_at_ms').notNull(),
    resolvedBy: text('resolved_by'),
    resolvedAtMs: integer('resolved_at_ms'),
    resolutionNote: text('resolution_note'),
  },
  (t) => [index('media_cases_status_idx').on(t.status, t.openedAtMs), index('media_cases_item_idx').on(t.itemId)],
)

/** The human review queue: one row per item waiting for (or decided by) a moderator. */
export const mediaReviews = sqliteTable(
  'media_reviews',
  {
    itemId: text('item_id').primaryKey(),
    /** 0 = most urgent */
    priority: integer('priority').notNull(),
    /** when a decision is due (SLA per priority) */
    dueAtMs: integer('due_at_ms').notNull(),
    status: text('status', { enum: ['queued', 'claimed', 'decided'] }).notNull(),
    claimedBy: text('claimed_by'),
    claimedUntilMs: integer('claimed_until_ms'),
    decision: text('decision', { enum: ['approve', 'reject', 'escalate'] }),
    reasonsJson: text('reasons_json').notNull().default('[]'),
    decidedBy: text('decided_by'),
    decidedAtMs: integer('decided_at_ms'),
    enqueuedAtMs: integer('enqueued_at_ms').notNull(),
  },
  (t) => [index('media_reviews_queue_idx').on(t.status, t.priority, t.dueAtMs)],
)

/**
 * Forensic marks handed out: the serial is what an invisible image mark or an A/B segment pattern
 * carries; it names the item, its creator and the viewer who received that copy.
 */
export const mediaMarks = sqliteTable(
  'media_marks',
  {
    serial: integer('serial').primaryKey({ autoIncrement: true }),
    itemId: text('item_id').notNull(),
    creatorId: text('creator_id').notNull(),
    /** null: the creator's own (upload-time) mark */
    viewerId: text('viewer_id'),
    kind: text('kind', { enum: ['image', 'ab'] }).notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [uniqueIndex('media_marks_copy_uq').on(t.itemId, t.viewerId, t.kind), index('media_marks_viewer_idx').on(t.viewerId)],
)

/** Countries / subdivisions a creator's media is never delivered to (ISO 3166-1 or 3166-2 codes). */
export const mediaGeoBlocks = sqliteTable(
  'media_geo_blocks',
  {
    creatorId: text('creator_id').notNull(),
    region: text('region').notNull(),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.creatorId, t.region] })],
)

/** How delivered images are marked visibly, per brand (and optionally per creator). */
export const mediaWatermarkSettings = sqliteTable('media_watermark_settings', {
  /** `brand:<id>` or `creator:<id>` */
  scope: text('scope').primaryKey(),
  visible: integer('visible', { mode: 'boolean' }).notNull().default(true),
  /** text template: {brand}, {creator}, {handle} */
  template: text('template').notNull().default('{brand} / @{handle}'),
  position: text('position', { enum: ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'center'] }).notNull().default('bottom-right'),
  /** 0-100 */
  opacity: integer('opacity').notNull().default(45),
  updatedBy: text('updated_by').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})
