/**
 * FanzDash pages: sign-in required (401), not an operator (403), and the overview.
 * @module
 */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { AppEnv, AuthContext } from '../edge/context'
import type { Role } from '../edge/roles'
import { platformPage } from '../site/platform-page'
import type { AuditStatus, Overview, PoolRow } from './data'

/** Roles admitted to FanzDash. */
export const DASH_ROLES: Role[] = ['super_admin', 'admin', 'operator']

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/payouts', label: 'Payouts' },
  { href: '/media/review', label: 'Media review' },
]

export function dashPage(c: Context<AppEnv>, title: string, body: Child) {
  return platformPage(c, 'FanzDash', title, body, NAV)
}

/** Paste-a-token form; only in dev, where `npm run token` can mint one. */
const TokenForm = ({ error }: { error?: string }) => (
  <form method="post" action="/session" class="stack">
    <div>
      <label for="token">Access token</label>
      <p id="token-hint" class="hint">
        The token printed by <code>npm run token -- --role admin</code> (or <code>--role operator</code>).
      </p>
      <textarea
        id="token"
        name="token"
        rows={4}
        required
        autocomplete="off"
        spellcheck={false}
        aria-describedby={error ? 'token-hint token-error' : 'token-hint'}
        aria-invalid={error ? 'true' : undefined}
      />
    </div>
    <button type="submit">Sign in</button>
  </form>
)

export function signInPage(c: Context<AppEnv>, options: { error?: string; rejected?: string } = {}) {
  const dev = c.var.config.isDev
  return dashPage(
    c,
    'Sign-in required',
    <div class="panel">
      <p class="eyebrow">Operators only</p>
      <h1>Sign-in required</h1>
      {options.error ? (
        <div class="alert" role="alert" id="token-error">
          {options.error}
        </div>
      ) : null}
      {options.rejected ? <p>Your session was not accepted ({options.rejected}). Please sign in again.</p> : null}
      <p>FanzDash is the operators’ dashboard of the FANZ platform. It needs an account that holds the super_admin, admin or operator role.</p>
      <p>
        <a class="button" href="/auth/login?prompt=login&amp;return_to=%2F">
          Sign in with FanzSSO
        </a>
      </p>
      {dev ? (
        <>
          <p>
            Or, locally: start the platform with <code>npm start</code>, mint a token in another terminal with <code>npm run token -- --role admin</code>{' '}
            and paste it below. It is kept in an HttpOnly session cookie for this host until it expires. API clients can send it as{' '}
            <code>Authorization: Bearer</code> instead.
          </p>
          <TokenForm error={options.error} />
        </>
      ) : (
        <p>API clients send an access token as <code>Authorization: Bearer</code> instead.</p>
      )}
    </div>,
  )
}

export function forbiddenPage(c: Context<AppEnv>, auth: AuthContext) {
  return dashPage(
    c,
    'Not an operator',
    <div class="panel">
      <p class="eyebrow">Error 403</p>
      <h1>This account cannot use FanzDash</h1>
      <p>
        You are signed in as <code>{auth.subject}</code> with the role{auth.roles.length === 1 ? '' : 's'}{' '}
        {auth.roles.length ? auth.roles.join(', ') : '(none)'}. FanzDash needs one of: {DASH_ROLES.join(', ')}.
      </p>
      {auth.source === 'cookie' ? <SignOut auth={auth} label="Sign out and use another account" /> : null}
    </div>,
  )
}

/** A FanzSSO session signs out through FanzSSO (every brand); a pasted dev token just leaves this host. */
const SignOut = ({ label, auth }: { label: string; auth: AuthContext }) => (
  <form method="post" action={auth.claims.client_id === 'fanzdash' ? '/auth/logout' : '/session/end'} class="inline-form">
    <button type="submit" class="secondary">
      {label}
    </button>
  </form>
)

function when(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
}

const AuditPanel = ({ audit }: { audit: AuditStatus }) => {
  if (audit.ok === null) return <p>The audit log could not be checked: {audit.error}</p>
  if (audit.ok)
    return (
      <p>
        <span class="status ok">Intact</span> {audit.entries} {audit.entries === 1 ? 'entry' : 'entries'} verified from genesis; head hash{' '}
        <code>{audit.headHash.slice(0, 16)}…</code>
      </p>
    )
  return (
    <p>
      <span class="status broken">Broken</span> the chain breaks at entry {audit.firstBroken.seq} (<code>{audit.firstBroken.id}</code>):{' '}
      {audit.firstBroken.reason.replaceAll('_', ' ')}. {audit.entries} entries read.
    </p>
  )
}

const PoolTable = ({ pool }: { pool: PoolRow }) => (
  <div class="table-wrap">
    <table>
      <caption>
        {pool.name}: <code>{pool.pathPrefix}</code> for {pool.brandName ?? 'every brand'}, health check <code>{pool.healthPath}</code>
      </caption>
      <thead>
        <tr>
          <th scope="col">Origin</th>
          <th scope="col">Region</th>
          <th scope="col">Priority</th>
          <th scope="col">Status</th>
          <th scope="col">Last check</th>
        </tr>
      </thead>
      <tbody>
        {pool.origins.length ? (
          pool.origins.map((o) => (
            <tr>
              <th scope="row">
                <code>{o.url}</code>
              </th>
              <td>{o.region}</td>
              <td>{o.priority}</td>
              <td>
                <span class={`status ${o.status}`}>{o.status === 'up' ? 'Up' : 'Down'}</span>
              </td>
              <td>
                {when(o.lastCheckedAtMs)}
                {o.lastLatencyMs !== null ? `, ${o.lastLatencyMs} ms` : ''}
                {o.lastError ? `, ${o.lastError}` : ''}
              </td>
            </tr>
          ))
        ) : (
          <tr>
            <td colspan={5}>No origins in this pool.</td>
          </tr>
        )}
      </tbody>
    </table>
  </div>
)

export function overviewPage(c: Context<AppEnv>, auth: AuthContext, data: Overview) {
  return dashPage(
    c,
    'Overview',
    <>
      <div class="profile">
        <div>
          <h1>Overview</h1>
          <p class="meta">
            Signed in as <code>{auth.subject}</code> ({auth.roles.join(', ')})
          </p>
        </div>
        {auth.source === 'cookie' ? <SignOut auth={auth} label="Sign out" /> : null}
      </div>

      <section aria-labelledby="brands-title">
        <h2 id="brands-title">Brands</h2>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Brands and the hostnames each one answers</caption>
            <thead>
              <tr>
                <th scope="col">Brand</th>
                <th scope="col">Status</th>
                <th scope="col">Primary domain</th>
                <th scope="col">Hostnames</th>
              </tr>
            </thead>
            <tbody>
              {data.brands.map((b) => (
                <tr>
                  <th scope="row">{b.name}</th>
                  <td>{b.status}</td>
                  <td>{b.primaryDomain}</td>
                  <td>{b.domains.map((d) => `${d.hostname} (${d.kind})`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="pools-title">
        <h2 id="pools-title">Origin pools</h2>
        {data.pools.length ? data.pools.map((pool) => <PoolTable pool={pool} />) : <p>No origin pools are configured; every brand is served by the Worker itself.</p>}
      </section>

      <section aria-labelledby="cases-title">
        <h2 id="cases-title">Open cases</h2>
        {data.cases.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Open operator cases, newest first: dead letters and alerts</caption>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Source</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Opened</th>
                </tr>
              </thead>
              <tbody>
                {data.cases.map((row) => (
                  <tr>
                    <th scope="row">
                      <code>{row.id}</code>
                    </th>
                    <td>{row.queue.startsWith('alerts/') ? <strong>{row.queue}</strong> : row.queue}</td>
                    <td>{row.attempts}</td>
                    <td>{new Date(row.receivedAtMs).toISOString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>No open cases.</p>
        )}
      </section>

      <section aria-labelledby="audit-title">
        <h2 id="audit-title">Audit chain</h2>
        <AuditPanel audit={data.audit} />
      </section>
    </>,
  )
}
