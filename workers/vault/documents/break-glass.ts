/**
 * `POST /api/vault/break-glass`: emergency access to one vault document outside the caller's normal
 * scope (`vault:break_glass`, compliance officers, with a recent two-factor sign-in). It answers the
 * same single-use, 60-second download link as the normal path, and is loud about it:
 * - the audit entry `vault.break_glass.use` carries `severity: critical`, the reason (20+
 *   characters) and the incident reference;
 * - an operator alert is opened as a case in `dead_letters` (queue `alerts/vault.break_glass`,
 *   status `open`), the platform's existing "operators see and resolve" list, so someone other
 *   than the caller reviews every use;
 * - the download it leads to is audited with purpose `break_glass`.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { deadLetters } from '../../../d1/schema'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { log } from '../../edge/logger'
import { db } from '../../lib/db'
import { newId } from '../../lib/ids'
import { permission, withAccess } from '../../sso/roles/access'
import { VAULT_STEP_UP, vaultAudit } from '../access'
import { documentOr404, issueLink } from './issue'
import { DownloadLink } from './schemas'

/** The `queue` value of break-glass alerts in `dead_letters`. */
export const BREAK_GLASS_ALERT_QUEUE = 'alerts/vault.break_glass'

export const BreakGlassRequest = z
  .object({
    object_id: z.string().regex(/^vob_[0-9A-Za-z]{1,40}$/, 'must be a vault object id (vob_...)'),
    reason: z.string().trim().min(20, 'say why, in at least 20 characters').max(2000),
    incident: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/#-]{2,99}$/, 'an incident reference, e.g. INC-2026-0042'),
  })
  .strict()
  .openapi('VaultBreakGlassRequest')

const BreakGlassResponse = DownloadLink.extend({ alert_id: z.string(), severity: z.literal('critical') }).openapi('VaultBreakGlassLink')

const route = createRoute(
  withAccess(permission('vault:break_glass', { stepUp: VAULT_STEP_UP }), {
    method: 'post',
    path: '/break-glass',
    tags: ['vault'],
    summary: 'Emergency access to one document: a single-use download link, a critical audit entry and an operator alert',
    request: { body: jsonBody(BreakGlassRequest) },
    responses: { 201: json('The link; the use is audited and alerted', BreakGlassResponse), ...problemResponses(400, 401, 403, 404, 409, 422) },
  }),
)

export function registerBreakGlass(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const auth = authenticated(c)
    const body = c.req.valid('json')
    const row = await documentOr404(c, body.object_id)
    const { claims, body: link } = await issueLink(c, row, 'break_glass', true)
    const nowMs = Date.now()
    const alertId = newId('deadLetter', nowMs)
    await db(c.env.DB)
      .insert(deadLetters)
      .values({
        id: alertId,
        queue: BREAK_GLASS_ALERT_QUEUE,
        messageId: `break_glass:${claims.n}`,
        bodyJson: JSON.stringify({ severity: 'critical', action: 'vault.break_glass.use', object_id: row.id, record_type: row.recordType, record_id: row.recordId, actor: auth.subject, actor_roles: auth.roles, reason: body.reason, incident: body.incident, at_ms: nowMs }),
        attempts: 0,
        receivedAtMs: nowMs,
        resolution: null,
      })
    await vaultAudit(c, 'vault.break_glass.use', `vault_object:${row.id}`, { code: 'break_glass', note: body.reason }, {
      severity: 'critical',
      reason: body.reason,
      incident: body.incident,
      record_type: row.recordType,
      record_id: row.recordId,
      kind: row.kind,
      link_id: claims.n,
      expires_at_s: claims.e,
      alert_id: alertId,
    })
    log('error', c.var.config.logLevel, 'vault_break_glass', { request_id: c.var.requestId, actor: auth.subject, object_id: row.id, incident: body.incident, alert_id: alertId })
    return c.json({ ...link, alert_id: alertId, severity: 'critical' as const }, 201)
  })
}
