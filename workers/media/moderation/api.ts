/**
 * `/api/media` moderation, publication and removal:
 * - review queue (`media:moderate`): `GET /review`, `POST /review/{itemId}/claim`,
 *   `POST /review/{itemId}/decision`;
 * - cases: `GET /cases` (`media:read`), `POST /cases/{caseId}/resolve` (`compliance:cases:manage`);
 * - `POST /items/{itemId}/publish` (the creator who owns the item);
 * - `POST /items/{itemId}/remove` (`dmca:manage`: DMCA, consent withdrawn, terms, legal) and
 *   `POST /items/{itemId}/withdraw-consent` (the creator, for their own item). Two routes because
 *   every route declares exactly one permission (roles/access.ts).
 * Every change is audited (`media.review.*`, `media.case.resolve`, `media.item.publish|remove`).
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { audit } from '../../compliance/audit'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { newestFirstPage, PageQuery } from '../../lib/pagination'
import { permission, withAccess } from '../../sso/roles/access'
import { resolveCase, type CaseRow } from './cases'
import { publishItem, removeItem, REMOVAL_REASONS, type RemovalReason } from './publication'
import { requeueReviewStatement } from './queue'
import { claimReview, decideReview, listQueue, REVIEW_REASONS } from './review'

const tags = ['media-moderation']
const ULID = '[0-9A-HJKMNP-TV-Z]{26}'
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const ItemIdParam = z.object({ itemId: z.string().regex(new RegExp(`^med_${ULID}$`), 'a media item id (med_…)').openapi({ param: { name: 'itemId', in: 'path' }, example: 'med_01JFANZ0000000000000000001' }) })
const CaseIdParam = z.object({ caseId: z.string().regex(new RegExp(`^mcs_${ULID}$`), 'a media case id (mcs_…)').openapi({ param: { name: 'caseId', in: 'path' }, example: 'mcs_01JFANZ0000000000000000001' }) })

const Classifier = z.object({ verdict: z.enum(['allow', 'review', 'block']), scores: z.record(z.string(), z.number()), model: z.string(), note: z.string().optional() }).openapi('MediaClassifierResult')

const QueueItem = z
  .object({
    item_id: z.string(),
    kind: z.enum(['image', 'video']),
    title: z.string(),
    creator_id: z.string(),
    creator_name: z.string().nullable(),
    brand_id: z.string(),
    priority: z.number().int().openapi({ description: '0 = most urgent (classifier block, escalation), 1 = review, 2 = allow' }),
    status: z.enum(['queued', 'claimed']),
    claimed_by: z.string().nullable(),
    claimed_until: z.iso.datetime().nullable(),
    enqueued_at: z.iso.datetime(),
    due_at: z.iso.datetime(),
    sla: z.enum(['on_time', 'at_risk', 'breached']).openapi({ description: 'at_risk: less than a quarter of the SLA window left' }),
    classifier: Classifier.nullable(),
    open_cases: z.number().int(),
  })
  .openapi('MediaReviewQueueItem')

const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'reject', 'escalate']),
    reasons: z.array(z.enum(REVIEW_REASONS)).max(10).default([]),
    note: z.string().trim().max(2000).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.decision !== 'approve' && b.reasons.length === 0) ctx.addIssue({ code: 'custom', path: ['reasons'], message: `a ${b.decision} names at least one reason code` })
  })
  .openapi('MediaReviewDecision')

const Case = z
  .object({
    id: z.string(),
    item_id: z.string(),
    kind: z.enum(['hash_match', 'classifier', 'escalation', 'reupload']),
    status: z.enum(['open', 'confirmed', 'dismissed']),
    severity: z.enum(['critical', 'high', 'normal']),
    list_id: z.string().nullable(),
    matched_hash: z.string().nullable(),
    distance: z.number().int().nullable(),
    details: z.record(z.string(), z.unknown()),
    opened_at: z.iso.datetime(),
    resolved_by: z.string().nullable(),
    resolved_at: z.iso.datetime().nullable(),
    resolution_note: z.string().nullable(),
  })
  .openapi('MediaCase')

function caseView(r: CaseRow): z.infer<typeof Case> {
  let details: Record<string, unknown> = {}
  try {
    details = JSON.parse(r.details_json) as Record<string, unknown>
  } catch {
    details = {}
  }
  return {
    id: r.id,
    item_id: r.item_id,
    kind: r.kind,
    status: r.status,
    severity: r.severity,
    list_id: r.list_id,
    matched_hash: r.matched_hash,
    distance: r.distance,
    details,
    opened_at: iso(r.opened_at_ms)!,
    resolved_by: r.resolved_by,
    resolved_at: iso(r.resolved_at_ms),
    resolution_note: r.resolution_note,
  }
}

const ResolveBody = z.object({ resolution: z.enum(['confirmed', 'dismissed']), note: z.string().trim().min(3, 'at least 3 characters').max(2000) }).strict().openapi('MediaCaseResolution')
const RemoveBody = z
  .object({ reason: z.enum(REMOVAL_REASONS), reference: z.string().trim().min(1).max(200).openapi({ description: 'the notice or ticket: DMCA notice id, consent-withdrawal ticket, legal order' }), note: z.string().trim().max(2000).optional() })
  .strict()
  .openapi('MediaRemoval')
const WithdrawBody = z.object({ note: z.string().trim().max(2000).optional() }).strict().openapi('MediaConsentWithdrawal')

const ItemState = z.object({ item_id: z.string(), status: z.string() }).openapi('MediaItemState')

const listRoute = createRoute(
  withAccess(permission('media:moderate'), {
    method: 'get',
    path: '/review',
    tags,
    summary: 'The review queue: items waiting for a moderator, most urgent first (priority, then due time), with SLA state and classifier scores',
    request: { query: PageQuery },
    responses: { 200: json('A page of the queue', z.object({ items: z.array(QueueItem), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const claimRoute = createRoute(
  withAccess(permission('media:moderate'), {
    method: 'post',
    path: '/review/{itemId}/claim',
    tags,
    summary: 'Claim an item for 15 minutes (renews one’s own claim; another moderator’s live claim answers 409)',
    request: { params: ItemIdParam },
    responses: { 200: json('Claimed', z.object({ item_id: z.string(), claimed_by: z.string(), claimed_until: z.iso.datetime() })), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const decisionRoute = createRoute(
  withAccess(permission('media:moderate'), {
    method: 'post',
    path: '/review/{itemId}/decision',
    tags,
    summary: 'Decide: approve (publishable by the creator), reject (with reason codes) or escalate to compliance (a case; the item stays queued at priority 0)',
    request: { params: ItemIdParam, body: jsonBody(DecisionBody) },
    responses: { 200: json('Decided', ItemState.extend({ decision: z.string(), case_id: z.string().nullable() })), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

const casesRoute = createRoute(
  withAccess(permission('media:read'), {
    method: 'get',
    path: '/cases',
    tags,
    summary: 'Media cases (hash-list matches, re-uploads of removed content, classifier blocks, escalations), newest first',
    request: {
      query: PageQuery.extend({
        status: z.enum(['open', 'confirmed', 'dismissed']).optional(),
        kind: z.enum(['hash_match', 'classifier', 'escalation', 'reupload']).optional(),
        item_id: z.string().regex(new RegExp(`^med_${ULID}$`), 'a media item id').optional(),
      }),
    },
    responses: { 200: json('A page of cases', z.object({ items: z.array(Case), next_cursor: z.string().nullable() })), ...problemResponses(400, 401, 403) },
  }),
)

const resolveRoute = createRoute(
  withAccess(permission('compliance:cases:manage'), {
    method: 'post',
    path: '/cases/{caseId}/resolve',
    tags,
    summary: 'Resolve a case: confirmed keeps a list match quarantined (evidence kept) or rejects a flagged item; dismissed sends a list match back to review',
    request: { params: CaseIdParam, body: jsonBody(ResolveBody) },
    responses: { 200: json('Resolved', z.object({ case: Case, item_status: z.string().nullable() })), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

const publishRoute = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'post',
    path: '/items/{itemId}/publish',
    tags,
    summary: 'Publish one’s approved item: every performer needs a complete 2257 record and consent on file (409 names who lacks what)',
    request: { params: ItemIdParam },
    responses: { 200: json('Published', ItemState.extend({ published_at: z.iso.datetime() })), ...problemResponses(400, 401, 403, 404, 409) },
  }),
)

const removeRoute = createRoute(
  withAccess(permission('dmca:manage'), {
    method: 'post',
    path: '/items/{itemId}/remove',
    tags,
    summary: 'Take an item down (DMCA, consent withdrawn, terms, legal): its hashes join the platform’s list, marked copies are deleted, the original is kept as evidence',
    request: { params: ItemIdParam, body: jsonBody(RemoveBody) },
    responses: { 200: json('Removed', ItemState.extend({ marked_copies_deleted: z.number().int() })), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

const withdrawRoute = createRoute(
  withAccess(permission('creator:content:write'), {
    method: 'post',
    path: '/items/{itemId}/withdraw-consent',
    tags,
    summary: 'The creator withdraws consent for their own item: removed like a takedown (reason consent_withdrawn), re-uploads refused',
    request: { params: ItemIdParam, body: jsonBody(WithdrawBody) },
    responses: { 200: json('Removed', ItemState.extend({ marked_copies_deleted: z.number().int() })), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

interface ItemRow {
  id: string
  status: string
  creator_id: string
  brand_id: string
  pdq_hex: string | null
  pdq_quality: number | null
  md5: string | null
  user_id: string | null
}

async function itemOr404(c: Context<AppEnv>, itemId: string, options: { own?: boolean } = {}): Promise<ItemRow> {
  const row = await c.env.DB.prepare('SELECT i.id, i.status, i.creator_id, i.brand_id, i.pdq_hex, i.pdq_quality, i.md5, c.user_id FROM media_items i LEFT JOIN creators c ON c.id = i.creator_id WHERE i.id = ?')
    .bind(itemId)
    .first<ItemRow>()
  // someone else's item answers like an unknown one (no probing which items exist)
  if (!row || (options.own && (row.user_id === null || row.user_id !== authenticated(c).subject))) throw new ProblemError('NOT_FOUND', { detail: `no media item ${itemId} for you` })
  return row
}

async function remove(c: Context<AppEnv>, item: ItemRow, reason: RemovalReason, reference: string | null, note: string | null) {
  const nowMs = Date.now()
  const result = await removeItem(c.env, item, reason, nowMs)
  await audit(c, 'media.item.remove', `media_item:${item.id}`, { reason, reference, note, from: item.status, creator_id: item.creator_id, newly_removed: result.removed, marked_copies_deleted: result.markedCopiesDeleted })
  return c.json({ item_id: item.id, status: 'removed', marked_copies_deleted: result.markedCopiesDeleted }, 200)
}

export function registerModeration(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query')
    c.header('cache-control', 'private, no-store')
    const page = await listQueue(c.env.DB, { limit: q.limit, cursor: q.cursor, nowMs: Date.now() })
    return c.json(
      {
        items: page.items.map((e) => ({
          item_id: e.itemId,
          kind: e.kind,
          title: e.title,
          creator_id: e.creatorId,
          creator_name: e.creatorName,
          brand_id: e.brandId,
          priority: e.priority,
          status: e.status,
          claimed_by: e.claimedBy,
          claimed_until: iso(e.claimedUntilMs),
          enqueued_at: iso(e.enqueuedAtMs)!,
          due_at: iso(e.dueAtMs)!,
          sla: e.sla,
          classifier: e.classifier as z.infer<typeof Classifier> | null,
          open_cases: e.openCases,
        })),
        next_cursor: page.nextCursor,
      },
      200,
    )
  })

  app.openapi(claimRoute, async (c) => {
    const { itemId } = c.req.valid('param')
    const me = authenticated(c).subject
    const claim = await claimReview(c.env.DB, itemId, me, Date.now())
    await audit(c, 'media.review.claim', `media_item:${itemId}`, { claimed_until_ms: claim.claimedUntilMs, renewed: claim.renewed })
    return c.json({ item_id: itemId, claimed_by: me, claimed_until: iso(claim.claimedUntilMs)! }, 200)
  })

  app.openapi(decisionRoute, async (c) => {
    const { itemId } = c.req.valid('param')
    const body = c.req.valid('json')
    const outcome = await decideReview(c.env.DB, itemId, authenticated(c).subject, { decision: body.decision, reasons: body.reasons, note: body.note ?? null }, Date.now())
    await audit(c, `media.review.${body.decision}`, `media_item:${itemId}`, { reasons: body.reasons, note: body.note ?? null, item_status: outcome.itemStatus, case_id: outcome.caseId })
    return c.json({ item_id: itemId, status: outcome.itemStatus, decision: body.decision, case_id: outcome.caseId }, 200)
  })

  app.openapi(casesRoute, async (c) => {
    const q = c.req.valid('query')
    const page = await newestFirstPage<CaseRow>(c.env.DB, { from: 'media_cases', filters: [['status', q.status], ['kind', q.kind], ['item_id', q.item_id]], cursor: q.cursor, limit: q.limit })
    return c.json({ items: page.rows.map(caseView), next_cursor: page.next_cursor }, 200)
  })

  app.openapi(resolveRoute, async (c) => {
    const { caseId } = c.req.valid('param')
    const body = c.req.valid('json')
    const nowMs = Date.now()
    const by = authenticated(c).subject
    const { row, itemStatus } = await resolveCase(c.env.DB, caseId, { resolution: body.resolution, note: body.note, by }, nowMs, (itemId) => requeueReviewStatement(c.env.DB, itemId, 'review', nowMs))
    await audit(c, 'media.case.resolve', `media_case:${caseId}`, { item_id: row.item_id, kind: row.kind, severity: row.severity, resolution: body.resolution, item_status: itemStatus })
    return c.json({ case: caseView(row), item_status: itemStatus }, 200)
  })

  app.openapi(publishRoute, async (c) => {
    const { itemId } = c.req.valid('param')
    const item = await itemOr404(c, itemId, { own: true })
    const result = await publishItem(c.env.DB, item, Date.now())
    if (result.published) await audit(c, 'media.item.publish', `media_item:${itemId}`, { creator_id: item.creator_id, brand_id: item.brand_id })
    return c.json({ item_id: itemId, status: 'published', published_at: iso(result.publishedAtMs)! }, 200)
  })

  app.openapi(removeRoute, async (c) => {
    const { itemId } = c.req.valid('param')
    const body = c.req.valid('json')
    return remove(c, await itemOr404(c, itemId), body.reason, body.reference, body.note ?? null)
  })

  app.openapi(withdrawRoute, async (c) => {
    const { itemId } = c.req.valid('param')
    const body = c.req.valid('json')
    return remove(c, await itemOr404(c, itemId, { own: true }), 'consent_withdrawn', null, body.note ?? null)
  })
}
