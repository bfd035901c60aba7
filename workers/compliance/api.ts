/**
 * `/api/compliance/*`: the audit log (list, verify). Later issues add DMCA, data-subject requests
 * and the rule engine here.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { createSurfaceApp } from '../edge/surface'
import { permission, withAccess } from '../sso/roles/access'
import { cursorOf, encodeCursor, PageQuery } from '../lib/pagination'
import { auditLog } from './audit'
import { verifyCheckpoints } from './checkpoints'
import { Problem } from '../api/schemas'

export const complianceApi = createSurfaceApp()

const AuditEntrySchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    at: z.iso.datetime(),
    action: z.string(),
    subject: z.string(),
    actor: z.string(),
    actor_roles: z.array(z.string()),
    request_id: z.string().nullable(),
    brand: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry')

const auditReaders = permission('audit:read')

complianceApi.openapi(
  createRoute(withAccess(auditReaders, {
    method: 'get',
    path: '/audit',
    tags: ['compliance'],
    summary: 'List audit entries in order, filtered by action, subject or actor',
    security: [{ bearer: [] }],
    request: {
      query: PageQuery.extend({
        action: z.string().max(128).optional(),
        subject: z.string().max(256).optional(),
        actor: z.string().max(128).optional(),
      }),
    },
    responses: {
      200: { description: 'A page of entries', content: { 'application/json': { schema: z.object({ items: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }) } } },
      400: { description: 'Bad query', content: { 'application/problem+json': { schema: Problem } } },
    },
  })),
  async (c) => {
    const q = c.req.valid('query')
    const after = cursorOf(q.cursor, z.object({ seq: z.number().int().min(0) }))
    const rows = await auditLog(c.env).list({ afterSeq: after?.seq ?? 0, limit: q.limit + 1, action: q.action, subject: q.subject, actor: q.actor })
    const page = rows.slice(0, q.limit)
    const last = page.at(-1)
    return c.json(
      {
        items: page.map((e) => ({
          seq: e.seq,
          id: e.id,
          at: new Date(e.atMs).toISOString(),
          action: e.action,
          subject: e.subject,
          actor: e.actor,
          actor_roles: e.actorRoles,
          request_id: e.requestId,
          brand: e.brand,
          details: JSON.parse(e.details) as Record<string, unknown>,
          prev_hash: e.prevHash,
          hash: e.hash,
        })),
        next_cursor: rows.length > q.limit && last ? encodeCursor({ seq: last.seq }) : null,
      },
      200,
    )
  },
)

const BrokenLink = z.object({
  seq: z.number().int(),
  id: z.string().nullable(),
  reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'sequence_gap', 'checkpoint_mismatch', 'checkpoint_missing_entry', 'checkpoint_bad_signature']),
})

complianceApi.openapi(
  createRoute(withAccess(auditReaders, {
    method: 'get',
    path: '/audit/verify',
    tags: ['compliance'],
    summary: 'Recompute the hash chain, compare it with the signed checkpoints, report the first broken link',
    security: [{ bearer: [] }],
    responses: {
      200: {
        description: 'Verification result',
        content: {
          'application/json': {
            schema: z
              .object({
                ok: z.boolean(),
                entries: z.number().int(),
                head_hash: z.string().nullable(),
                first_broken: BrokenLink.nullable(),
                checkpoints: z.object({ checked: z.number().int(), signature_not_checked: z.number().int() }),
              })
              .openapi('AuditVerification'),
          },
        },
      },
    },
  })),
  async (c) => {
    const [chain, witness] = await Promise.all([auditLog(c.env).verify(), verifyCheckpoints(c.env)])
    const checkpoints = { checked: witness.checked, signature_not_checked: witness.unsignedChecked }
    if (!chain.ok) return c.json({ ok: false, entries: chain.entries, head_hash: null, first_broken: chain.firstBroken, checkpoints }, 200)
    if (witness.firstMismatch) {
      const reason = `checkpoint_${witness.firstMismatch.reason === 'hash_mismatch' ? 'mismatch' : witness.firstMismatch.reason}` as const
      return c.json({ ok: false, entries: chain.entries, head_hash: chain.headHash, first_broken: { seq: witness.firstMismatch.seq, id: null, reason }, checkpoints }, 200)
    }
    return c.json({ ok: true, entries: chain.entries, head_hash: chain.headHash, first_broken: null, checkpoints }, 200)
  },
)
