/**
 * What a sign-in form POST answers on success: a page that moves on by itself (meta refresh) with a
 * link as fallback, instead of a 303. Why: the SSO pages' CSP `form-action` lists only the SSO host,
 * and browsers apply form-action to every redirect that follows a form submission, so a 303 chain
 * ending at a brand's `/auth/callback` would be blocked. A meta refresh starts a new navigation
 * that form-action does not govern, and the CSP stays strict. Only same-origin paths are accepted.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { platformPage } from '../../site/platform-page'

export function continuePage(c: Context<AppEnv>, next: string): Response | Promise<Response> {
  if (!next.startsWith('/') || next.startsWith('//')) throw new TypeError('continuePage takes a path on the SSO host')
  c.header('cache-control', 'no-store')
  c.header('refresh', `0;url=${next}`)
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      'Signed in',
      <section class="narrow" aria-labelledby="title">
        <meta http-equiv="refresh" content={`0;url=${next}`} />
        <h1 id="title">You are signed in</h1>
        <p role="status">
          Continuing… If nothing happens, <a href={next}>continue here</a>.
        </p>
      </section>,
    ),
  )
}

/** How a form POST that completed a sign-in step moves on: same-host steps by 303, a return to the client through the self-advancing page. */
export function afterSignIn(c: Context<AppEnv>, next: string): Response | Promise<Response> {
  return next.startsWith('/authorize/') ? continuePage(c, next) : c.redirect(next, 303)
}
