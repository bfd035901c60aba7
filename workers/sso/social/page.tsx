/**
 * The pages social sign-in renders itself (refusals, the link confirmation, the sandbox provider's
 * form), in the SSO host's shell. Always `no-store`: they carry per-visitor state.
 * @module
 */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../../edge/context'
import { platformPage } from '../../site/platform-page'

export function socialPage(c: Context<AppEnv>, status: ContentfulStatusCode, title: string, body: Child): Response | Promise<Response> {
  c.header('cache-control', 'no-store')
  return c.html(
    platformPage(
      c,
      'FanzSSO',
      title,
      <div class="panel narrow">
        <h1>{title}</h1>
        {body}
      </div>,
    ),
    status,
  )
}

/** A refusal: what happened, why, and the way forward. */
export function refusalPage(c: Context<AppEnv>, status: ContentfulStatusCode, title: string, reason: Child, next?: { href: string; label: string }) {
  return socialPage(
    c,
    status,
    title,
    <>
      <p class="alert" role="alert">
        {reason}
      </p>
      <div class="actions">
        <a class="button secondary" href={next?.href ?? '/'}>
          {next?.label ?? 'Back to FanzSSO'}
        </a>
      </div>
    </>,
  )
}
