/**
 * `/api/vault/keys`: the key hierarchy's status and KEK rotation (`vault:keys:manage`, super_admin
 * only). Rotation procedure (r2/vault/storage-schema.md): prepend a new version to the VAULT_KEKS
 * secret, deploy, let re-wrap run (hourly cron, or `POST /keys/rewrap` at once), and drop an old
 * version from the secret once `data_keys_by_version` shows 0 for it (`droppable` lists those).
 * Key material never appears in an answer or the audit log: versions and counts only.
 * @module
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { json, jsonBody, problemResponses } from '../../api/schemas'
import type { AppEnv } from '../../edge/context'
import { withIdempotency } from '../../lib/idempotency'
import { permission, withAccess } from '../../sso/roles/access'
import { VAULT_STEP_UP, vaultAudit } from '../access'
import { keyStatus, lastRewrapAtMs } from '../store'
import { rewrapUntilDone } from './rewrap'

const tags = ['vault']

const KeyStatus = z
  .object({
    active: z.string().openapi({ description: 'the KEK version new data keys are wrapped under' }),
    versions: z.array(z.string()).openapi({ description: 'versions present in VAULT_KEKS' }),
    data_keys_by_version: z.record(z.string(), z.number().int()).openapi({ description: 'live (not destroyed) data keys per KEK version' }),
    pending_rewrap: z.number().int(),
    droppable: z.array(z.string()).openapi({ description: 'old versions wrapping no data key: safe to remove from VAULT_KEKS' }),
    missing: z.array(z.string()).openapi({ description: 'versions that wrap data keys but are absent from VAULT_KEKS (those documents cannot be opened)' }),
    last_rewrap_at: z.string().nullable(),
  })
  .openapi('VaultKeyStatus')

const RewrapRequest = z
  .object({ budget_ms: z.number().int().min(100).max(25_000).default(10_000).openapi({ description: 'stop after this long; run again for the rest' }) })
  .strict()
  .openapi('VaultRewrapRequest')

const RewrapResult = z
  .object({ active: z.string(), rewrapped: z.number().int(), remaining: z.number().int(), batches: z.number().int(), elapsed_ms: z.number().int(), status: KeyStatus })
  .openapi('VaultRewrapResult')

const statusRoute = createRoute(
  withAccess(permission('vault:keys:manage'), {
    method: 'get',
    path: '/keys',
    tags,
    summary: 'KEK versions, data keys per version, last re-wrap',
    responses: { 200: json('Key status', KeyStatus), ...problemResponses(401, 403) },
  }),
)

const rewrapRoute = createRoute(
  withIdempotency(
    withAccess(permission('vault:keys:manage', { stepUp: VAULT_STEP_UP }), {
      method: 'post',
      path: '/keys/rewrap',
      tags,
      summary: 'Re-wrap data keys under the active KEK until done or the time budget is spent (Idempotency-Key)',
      request: { body: jsonBody(RewrapRequest) },
      responses: { 200: json('What was re-wrapped and what remains', RewrapResult), ...problemResponses(400, 401, 403, 422) },
    }),
  ),
)

async function statusOf(env: Env): Promise<z.infer<typeof KeyStatus>> {
  const s = await keyStatus(env)
  const last = await lastRewrapAtMs(env)
  const counts = s.wrappedByVersion
  return {
    active: s.active,
    versions: s.versions,
    data_keys_by_version: counts,
    pending_rewrap: Object.entries(counts).reduce((n, [v, count]) => (v === s.active ? n : n + count), 0),
    droppable: s.versions.filter((v) => v !== s.active && !counts[v]),
    missing: Object.keys(counts).filter((v) => !s.versions.includes(v)),
    last_rewrap_at: last === null ? null : new Date(last).toISOString(),
  }
}

export function registerKeys(app: OpenAPIHono<AppEnv>): void {
  app.openapi(statusRoute, async (c) => {
    const status = await statusOf(c.env)
    await vaultAudit(c, 'vault.keys.read', 'vault_keys', null, { active: status.active, versions: status.versions, pending_rewrap: status.pending_rewrap })
    return c.json(status, 200)
  })

  app.openapi(rewrapRoute, async (c) => {
    const { budget_ms } = c.req.valid('json')
    const report = await rewrapUntilDone(c.env, budget_ms)
    const status = await statusOf(c.env)
    await vaultAudit(c, 'vault.keys.rewrap', 'vault_keys', null, { ...report, trigger: 'api', data_keys_by_version: status.data_keys_by_version })
    return c.json({ ...report, status }, 200)
  })
}
