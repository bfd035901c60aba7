/**
 * Who may see a creator's payouts: the creator whose profile it is (`payouts:self` and
 * `creators.user_id` = the token subject) or anyone holding `payouts:read`. Someone else's creator
 * answers 404, as an unknown one would (no probing which creators exist).
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { authenticated } from '../edge/auth'
import { ProblemError } from '../edge/problem'
import { holds } from '../sso/roles/middleware'

export async function payoutCreator(c: Context<AppEnv>, creatorId: string, options: { write?: boolean } = {}): Promise<{ id: string; userId: string | null; brandId: string }> {
  const auth = authenticated(c)
  const row = await c.env.DB.prepare('SELECT id, user_id, brand_id FROM creators WHERE id = ?').bind(creatorId).first<{ id: string; user_id: string | null; brand_id: string }>()
  const own = row !== null && row.user_id !== null && row.user_id === auth.subject && holds(auth, 'payouts:self')
  // operators read any creator's payouts; changing a creator's methods or rule is the creator's alone
  const operator = !options.write && holds(auth, 'payouts:read')
  if (row && (own || operator)) return { id: row.id, userId: row.user_id, brandId: row.brand_id }
  throw new ProblemError('NOT_FOUND', { detail: `no creator ${creatorId} for you` })
}
