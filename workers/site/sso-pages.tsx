/**
 * Pages of the SSO host (routes in workers/sso/app.ts): its landing page, and the age-verification
 * page a brand's age gate links to. There a signed-in fan picks a method their jurisdiction accepts
 * (workers/vault/age/methods.ts) and is sent to the provider; the provider sends them back here
 * with `?verification=<id>`, and the page shows the result and the way back to the brand.
 *
 * Starting is a GET form (the route is GET only) carrying a token bound to the fan's IdP session
 * and the method (HMAC, checked in constant time), so another site cannot start a check for the
 * fan; a start only opens a pending session and changes nothing else.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'
import { timingSafeEqualText } from '../lib/encoding'
import { derivedSecret } from '../lib/secret-box'
import { getSnapshot } from '../routing/snapshot'
import { readIdpSession, type IdpSession } from '../sso/login/idp-session'
import { acceptedMethods, unavailableMethods, type SupportedMethod } from '../vault/age/methods'
import { ageStatus, startVerification, verificationById } from '../vault/age/verifications'
import { gateExplanation, METHOD_TEXT, placeName } from './av-text'
import { MethodList } from './method-list'
import { platformPage } from './platform-page'
import { browserReachable } from './links'

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

/** The start token for `method` in this IdP session. */
async function startToken(c: Context<AppEnv>, session: IdpSession, method: string): Promise<string> {
  return derivedSecret(await derivedSecret(c.var.config.signingMasterKey, 'fanz/age-page-start/v1'), `${session.sessionId}.${method}`)
}

function ageVerificationUrl(returnTo: { url: string } | null, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({ ...extra, ...(returnTo ? { return_to: returnTo.url } : {}) }).toString()
  return `/age-verification${query ? `?${query}` : ''}`
}

const RESULT_TEXT = {
  pending: { title: 'Waiting for the provider', text: 'The provider has not sent a result yet. Reload this page in a moment.' },
  passed: { title: 'Your age is verified', text: 'Every FANZ brand now lets you in where the law asks for an age check.' },
  failed: { title: 'Your age could not be verified', text: 'The check did not confirm that you are 18 or older. You can try again, with another method if you like.' },
  expired: { title: 'Your verification has expired', text: 'Verify again to keep using FANZ brands where the law asks for an age check.' },
} as const

function BackLink({ returnTo }: { returnTo: { url: string; brandName: string } | null }) {
  return returnTo ? (
    <div class="actions">
      <a class="button secondary" href={returnTo.url}>
        Back to {returnTo.brandName}
      </a>
    </div>
  ) : null
}

export async function ageVerificationPage(c: Context<AppEnv>, returnTo: { url: string; brandName: string } | null) {
  const policy = c.var.jurisdiction
  const geo = c.var.geo
  const place = placeName(geo)
  const session = await readIdpSession(c)
  const title = 'Age verification'
  const shell = (body: unknown) => platformPage(c, 'FanzSSO', title, (<div class="panel">{body as never}</div>) as never)

  // a start: the provider's URL, reached by a self-advancing page
  const method = c.req.query('method')
  const token = c.req.query('token')
  if (session && method && token) {
    const valid = timingSafeEqualText(await startToken(c, session, method), token)
    if (valid) {
      let started
      try {
        started = await startVerification(c, {
          userId: session.userId,
          method,
          geo,
          policy,
          fieldPath: 'query.method',
          returnUrl: (id) => `${c.var.config.issuer}${ageVerificationUrl(returnTo, { verification: id })}`,
        })
      } catch (err) {
        if (!(err instanceof ProblemError) || err.status >= 500) throw err
        return shell(
          <>
            <h1>Age verification</h1>
            <p role="alert">That method cannot be used where you are now. <a href={ageVerificationUrl(returnTo)}>Choose another method</a>.</p>
          </>,
        )
      }
      // locally the provider's sandbox is on this server's port
      const next = browserReachable(c, started.url).toString()
      c.header('refresh', `0;url=${next}`)
      return shell(
        <>
          <h1>Continuing to the verification provider</h1>
          <p role="status">
            You are being sent to the provider for {METHOD_TEXT[started.method].name.toLowerCase()}. <a href={next}>Continue</a>.
          </p>
        </>,
      )
    }
  }

  const status = session ? await ageStatus(c.env.DB, session.userId) : null
  const verificationId = c.req.query('verification')
  const attempt = session && verificationId ? await verificationById(c.env.DB, verificationId) : null
  const own = attempt && attempt.user_id === session!.userId ? attempt : null
  const offered = acceptedMethods(policy)
  const missing = unavailableMethods(policy)
  const tokens = session ? await Promise.all(offered.map(async (m) => [m, await startToken(c, session, m)] as [SupportedMethod, string])) : []

  return shell(
    <>
      <span class="badge" aria-hidden="true">
        18+
      </span>
      <h1>Age verification</h1>
      {own ? (
        <section aria-labelledby="result-title" data-result={own.status}>
          <h2 id="result-title">{RESULT_TEXT[own.status].title}</h2>
          <p role="status">{RESULT_TEXT[own.status].text}</p>
        </section>
      ) : null}
      {status?.verified ? (
        <p data-status="verified">
          Your account is verified ({METHOD_TEXT[status.method as SupportedMethod]?.name ?? status.method}) until {status.expires_at!.slice(0, 10)}.
        </p>
      ) : null}
      {policy.gated ? (
        <p>{gateExplanation(policy, geo)}</p>
      ) : (
        <p>No age-verification law applies in {place ?? 'your location'}, so FANZ brands do not ask you to verify your age there; you may still verify, for example before travelling.</p>
      )}
      {!session ? (
        <>
          {policy.gated ? (
            <>
              <h2>Accepted methods where you are</h2>
              <MethodList methods={policy.methods} />
            </>
          ) : null}
          <h2>Sign in to verify</h2>
          <p>The result is kept with your FanzSSO account, so one verification lets you into every FANZ brand.</p>
          <div class="actions">
            <a class="button" href="/login">
              Sign in
            </a>
          </div>
          <p>After signing in, come back to this page.</p>
        </>
      ) : status?.verified ? null : (
        <>
          <h2>Choose how to verify</h2>
          {offered.length ? (
            <ul class="methods">
              {tokens.map(([m, t]) => (
                <li>
                  <form method="get" action="/age-verification" class="inline-form">
                    <input type="hidden" name="method" value={m} />
                    <input type="hidden" name="token" value={t} />
                    {returnTo ? <input type="hidden" name="return_to" value={returnTo.url} /> : null}
                    <strong>{METHOD_TEXT[m].name}</strong>: {METHOD_TEXT[m].detail}.{' '}
                    <button type="submit" data-method={m}>
                      Verify with {METHOD_TEXT[m].name.toLowerCase()}
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          ) : (
            <p>None of the methods accepted where you are is available yet.</p>
          )}
          {missing.length ? (
            <>
              <p>Also accepted where you are, but not offered by FANZ yet:</p>
              <MethodList methods={missing} />
            </>
          ) : null}
          <p class="hint">FANZ keeps only the method, the result and when it expires: never your ID images, selfie or date of birth.</p>
        </>
      )}
      <BackLink returnTo={returnTo} />
    </>,
  )
}
