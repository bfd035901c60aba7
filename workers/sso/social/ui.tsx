/**
 * The social sign-in buttons for the sign-in and sign-up pages: one link per provider offered on
 * this deployment (configured credentials; the sandbox provider outside production), each starting
 * the round trip for the pending authorization request.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { PROVIDER_LABELS, type ProviderId } from './profile'
import { offeredProviders } from './providers'

/** The providers to show, in display order. */
export function configuredProviders(c: Context<AppEnv>): ProviderId[] {
  return offeredProviders(c)
}

export function socialStartHref(provider: ProviderId, requestId: string | null): string {
  return `/social/${provider}/start${requestId ? `?request=${encodeURIComponent(requestId)}` : ''}`
}

export const SocialButtons = ({ requestId, providers }: { requestId: string | null; providers: ProviderId[] }) =>
  providers.length ? (
    <nav aria-label="Other ways to sign in" class="actions">
      {providers.map((provider) => (
        <a class="button secondary" href={socialStartHref(provider, requestId)}>
          Continue with {PROVIDER_LABELS[provider]}
        </a>
      ))}
    </nav>
  ) : null
