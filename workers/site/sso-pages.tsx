/**
 * Pages of the SSO host (routes in workers/sso/app.ts): its landing page, and the age-verification
 * page a brand's age gate links to. No verification provider is connected yet (the HubVault issue
 * does that), and the page says so instead of pretending to check anything.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { getSnapshot } from '../routing/snapshot'
import { gateExplanation, placeName } from './av-text'
import { MethodList } from './method-list'
import { platformPage } from './platform-page'

export function ssoLandingPage(c: Context<AppEnv>) {
  const config = c.var.config
  return platformPage(
    c,
    'FanzSSO',
    'FanzSSO',
    <>
      <section class="hero" aria-labelledby="title">
        <p class="eyebrow">Identity for every FANZ brand</p>
        <h1 id="title">FanzSSO</h1>
        <p class="lead">
          The single sign-on service of the FANZ platform: one account for fans, creators and staff across all five brands.
        </p>
      </section>
      <section aria-labelledby="does-title" class="narrow">
        <h2 id="does-title">What this host does</h2>
        <ul>
          <li>
            Issues access tokens (JWT, EdDSA) for the audience <code>{config.accessTokenAudience}</code>, with issuer <code>{config.issuer}</code>.
          </li>
          <li>
            Publishes its public signing keys at <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>, so every brand verifies tokens at the
            edge without calling back here. Keys rotate every {config.signingKeyRotateDays} days.
          </li>
          <li>
            Hosts <a href="/age-verification">age verification</a> for visitors in places whose law requires it.
          </li>
        </ul>
        <div class="actions">
          <a class="button" href="/login">
            Sign in
          </a>
          <a class="button secondary" href="/signup">
            Create an account
          </a>
        </div>
        <p>
          Signed in already? Manage your profile, sessions and two-step verification on <a href="/account">your account</a>.
          {config.isDev ? (
            <>
              {' '}
              For API calls, mint a local token with <code>npm run token -- --role admin</code>.
            </>
          ) : null}
        </p>
      </section>
    </>,
  )
}

/** `return_to` only when it points at one of our brand hosts, so this page is no open redirect. */
export async function safeReturnTo(c: Context<AppEnv>, value: string | undefined): Promise<{ url: string; brandName: string } | null> {
  if (!value) return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  const schemeOk = url.protocol === 'https:' || (c.var.config.isDev && url.protocol === 'http:')
  if (!schemeOk || url.username || url.password) return null
  const entry = (await getSnapshot(c.env.DB)).hosts.get(url.hostname.toLowerCase())
  return entry ? { url: url.toString(), brandName: entry.brand.name } : null
}

export function ageVerificationPage(c: Context<AppEnv>, returnTo: { url: string; brandName: string } | null) {
  const policy = c.var.jurisdiction
  const geo = c.var.geo
  const place = placeName(geo)
  return platformPage(
    c,
    'FanzSSO',
    'Age verification',
    <div class="panel">
      <span class="badge" aria-hidden="true">
        18+
      </span>
      <h1>Age verification</h1>
      {policy.gated ? (
        <>
          <p>{gateExplanation(policy, geo)}</p>
          <h2>Accepted methods where you are</h2>
          <MethodList methods={policy.methods} />
        </>
      ) : (
        <p>
          No age-verification law applies in {place ?? 'your location'}, so FANZ brands do not ask you to verify your age there.
        </p>
      )}
      <h2>Verification is not available yet</h2>
      <p>
        No verification provider is connected to FanzSSO yet; providers are connected by the HubVault issue. This page cannot check your age, and
        nothing you do here changes your account.
      </p>
      {c.var.config.isDev ? (
        <p class="hint">
          For local testing, mint a token that carries an age-verification result: <code>npm run token -- --role fan --age-verified</code>.
        </p>
      ) : null}
      {returnTo ? (
        <div class="actions">
          <a class="button secondary" href={returnTo.url}>
            Back to {returnTo.brandName}
          </a>
        </div>
      ) : null}
    </div>,
  )
}
