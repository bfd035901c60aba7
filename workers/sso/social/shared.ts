/**
 * Small pieces the sign-in and linking routes share: the provider path parameter, the pending link
 * kept between the callback and `/social/link`, and who an audit entry is attributed to.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import type { AuditContext } from '../../compliance/audit'
import { isProviderId, PROVIDER_LABELS, type ProviderId, type SocialProfile } from './profile'

export const PENDING_LINK_COOKIE = 'fanz_social_link'
export const PENDING_LINK_PATH = '/social/link'
export const PENDING_LINK_TTL_S = 600

/** A verified upstream identity whose email an existing account uses: linked only by its owner. */
export interface PendingLink {
  profile: SocialProfile
  userId: string
  requestId: string | null
}

export const START_AGAIN = { href: '/', label: 'Back to FanzSSO' }

export function label(provider: ProviderId): string {
  return PROVIDER_LABELS[provider]
}

export function providerParam(c: Context<AppEnv>): ProviderId {
  const provider = c.req.param('provider') ?? ''
  if (!isProviderId(provider)) throw new ProblemError('NOT_FOUND', { detail: 'no such sign-in provider' })
  return provider
}

/** Social sign-in happens before any access token exists: the account itself is the actor. */
export function actorContext(c: Context<AppEnv>, userId: string): AuditContext {
  return { env: c.env, actor: userId, actorRoles: [], requestId: c.var.requestId }
}
