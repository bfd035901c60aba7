/**
 * The creator profile a request acts for: a profile whose `user_id` is the token subject. A person
 * may hold a profile on several brands; then the request names the brand (slug or id).
 * @module
 */
import type { Context } from 'hono'
import { authenticated } from '../../edge/auth'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'

export interface CreatorProfile {
  id: string
  brandId: string
  brandSlug: string
  handle: string
}

/** Every creator profile of the caller. */
export async function creatorProfilesOf(c: Context<AppEnv>): Promise<CreatorProfile[]> {
  const auth = authenticated(c)
  const { results } = await c.env.DB.prepare(
    'SELECT c.id, c.brand_id, b.slug AS brand_slug, c.handle FROM creators c JOIN brands b ON b.id = c.brand_id WHERE c.user_id = ? ORDER BY c.id',
  )
    .bind(auth.subject)
    .all<{ id: string; brand_id: string; brand_slug: string; handle: string }>()
  return results.map((r) => ({ id: r.id, brandId: r.brand_id, brandSlug: r.brand_slug, handle: r.handle }))
}

/**
 * The profile to upload as: the one on `brand` when given, else the caller's only one. 422 naming
 * `field` when the caller has none there, or several and named none.
 */
export async function uploadingCreator(c: Context<AppEnv>, brand: string | undefined, field: string): Promise<CreatorProfile> {
  const profiles = await creatorProfilesOf(c)
  if (brand !== undefined) {
    const match = profiles.find((p) => p.brandSlug === brand || p.brandId === brand)
    if (!match) throw new ProblemError('VALIDATION_FAILED', { detail: `you have no creator profile on brand ${brand}`, errors: [{ path: field, message: 'no creator profile of yours on this brand' }] })
    return match
  }
  if (profiles.length === 1) return profiles[0]!
  throw new ProblemError('VALIDATION_FAILED', {
    detail: profiles.length === 0 ? 'your account has no creator profile' : `you have creator profiles on ${profiles.map((p) => p.brandSlug).join(', ')}: name the brand`,
    errors: [{ path: field, message: profiles.length === 0 ? 'no creator profile' : 'required when you create on several brands' }],
  })
}
