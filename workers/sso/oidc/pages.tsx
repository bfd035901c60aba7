/**
 * Pages the provider itself shows: an authorization request it will not redirect (unknown client,
 * unregistered redirect URI), and the end-session confirmation.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { platformPage } from '../../site/platform-page'

export function authorizeErrorPage(c: Context<AppEnv>, reason: string): Response | Promise<Response> {
  c.header('cache-control', 'no-store')
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      'Sign-in request refused',
      <section class="narrow" aria-labelledby="title">
        <h1 id="title">This sign-in request cannot be completed</h1>
        <p>{reason}</p>
        <p>For your safety FanzSSO does not send you back to an address it cannot verify. Return to the site you came from and start again.</p>
      </section>,
    ),
    400,
  )
}

export function signedOutPage(c: Context<AppEnv>, returnTo: string | null): Response | Promise<Response> {
  c.header('cache-control', 'no-store')
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      'Signed out',
      <section class="narrow" aria-labelledby="title">
        <h1 id="title">You are signed out</h1>
        <p>Your FANZ sign-in has ended on this browser and on every brand it was used for.</p>
        {returnTo ? (
          <p>
            <a href={returnTo}>Return to the site</a>
          </p>
        ) : (
          <p>
            <a href="/login">Sign in again</a>
          </p>
        )}
      </section>,
    ),
  )
}

export function confirmSignOutPage(c: Context<AppEnv>, hidden: Record<string, string>): Response | Promise<Response> {
  c.header('cache-control', 'no-store')
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      'Sign out',
      <section class="narrow" aria-labelledby="title">
        <h1 id="title">Sign out of FANZ?</h1>
        <p>You will be signed out here and on every FANZ brand where this sign-in is used.</p>
        <form method="post" action="/end-session">
          {Object.entries(hidden).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit">Sign out</button>
        </form>
      </section>,
    ),
  )
}
