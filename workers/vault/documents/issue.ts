/**
 * Shared by the document routes and break-glass: find a document, sign a download link for it.
 * @module
 */
import type { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { DOWNLOAD_LINK_TTL_S, newLinkClaims, signDownloadToken, type LinkClaims } from '../download-links'
import { sealedObject, type VaultObject } from '../store'
import type { DownloadLink } from './schemas'

/** The object, or 404 (metadata only). */
export async function documentOr404(c: Context<AppEnv>, id: string): Promise<VaultObject> {
  const row = await sealedObject(c.env, id)
  if (!row) throw new ProblemError('NOT_FOUND', { detail: `no vault document ${id}` })
  return row
}

/** Signs a link for `row` and answers it (shared with break-glass). */
export async function issueLink(c: Context<AppEnv>, row: VaultObject, purpose: LinkClaims['p'], breakGlass = false): Promise<{ claims: LinkClaims; body: z.infer<typeof DownloadLink> }> {
  if (row.destroyedAtMs) throw new ProblemError('CONFLICT', { detail: `document ${row.id} was destroyed on ${new Date(row.destroyedAtMs).toISOString()}` })
  const claims = newLinkClaims(row.id, authenticated(c).subject, purpose, Date.now(), breakGlass)
  const token = await signDownloadToken(c.var.config.signingMasterKey, claims)
  return {
    claims,
    body: { object_id: row.id, url: new URL(`/api/vault/downloads/${token}`, c.req.url).toString(), expires_at: new Date(claims.e * 1000).toISOString(), expires_in_s: DOWNLOAD_LINK_TTL_S },
  }
}

