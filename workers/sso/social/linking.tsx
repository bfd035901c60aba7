/**
 * Linking and unlinking upstream identities.
 *
 * - `GET /social/link`: what happens to a verified upstream identity whose email an existing
 *   account already uses. It is never linked automatically (account pre-hijacking, sso.md X8); the
 *   page explains that the visitor must sign in to that account first, then offers the confirmation.
 * - `POST /social/link`: links only when (a) the provider's email is verified, (b) the account's own
 *   email is verified and still the same address, and (c) the visitor is signed in on the SSO host
 *   as that account, confirmed by this same-origin POST.
 * - `POST /social/:provider/unlink` (form field `subject` when several are linked): removes an
 *   identity of the signed-in visitor, refused when it is the account's last way to sign in.
 * @module
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { audit } from '../../compliance/audit'
import { readForm } from '../../edge/body'
import type { AppEnv } from '../../edge/context'
import { ProblemError } from '../../edge/problem'
import { clearSealedCookie, readSealedCookie } from '../../lib/sealed-cookie'
import { normalizeEmail } from '../accounts/email'
import { continueTo } from '../login/complete'
import { readIdpSession } from '../login/idp-session'
import { accountById, identitiesOf, linkIdentity, unlinkIdentity } from './identities'
import { refusalPage, socialPage } from './page'
import { isSameOrigin } from '../../edge/same-origin'
import { actorContext, label, PENDING_LINK_COOKIE, PENDING_LINK_PATH, providerParam, START_AGAIN, type PendingLink } from './shared'

export const linkingRoutes = new Hono<AppEnv>()

function loginHref(): string {
  return `/login?return_to=${encodeURIComponent(PENDING_LINK_PATH)}`
}

/** The pending link and the account it targets, or the refusal page to show instead. */
async function pendingLinkOrRefusal(c: Context<AppEnv>) {
  const pending = await readSealedCookie<PendingLink>(c, PENDING_LINK_COOKIE)
  if (!pending) {
    return { refusal: await refusalPage(c, 400, 'Nothing to link', 'No sign-in is waiting to be linked to an account in this browser (it expires after 10 minutes). Start again from the sign-in page.', START_AGAIN) }
  }
  const provider = label(pending.profile.provider)
  const account = await accountById(c.env.DB, pending.userId)
  // (a) the provider's email is verified and still the account's address
  if (!account || !pending.profile.emailVerified || !pending.profile.email || normalizeEmail(pending.profile.email) !== account.emailNormalized) {
    return { refusal: await refusalPage(c, 409, 'Link refused', `The FANZ account this ${provider} sign-in matched has changed its email address. Nothing was linked; start again.`, START_AGAIN) }
  }
  // (b) the local account proved it owns the address: otherwise whoever registered it first could be anyone (sso.md X8)
  if (account.emailVerifiedAtMs === null) {
    return {
      refusal: await refusalPage(
        c,
        403,
        'Link refused',
        `A FANZ account already uses ${account.email}, but that address has not been verified on it. ${provider} cannot be linked until the account's owner verifies the address with the link we emailed. Nothing was linked.`,
        START_AGAIN,
      ),
    }
  }
  return { pending, account, provider }
}

linkingRoutes.get('/social/link', async (c) => {
  const found = await pendingLinkOrRefusal(c)
  if ('refusal' in found) return found.refusal
  const { pending, account, provider } = found
  const session = await readIdpSession(c)
  if (!session) {
    return socialPage(
      c,
      200,
      'This email already has a FANZ account',
      <>
        <p>
          {provider} signed you in as <strong>{pending.profile.email}</strong>, and a FANZ account with this email address already exists. For your
          security, {provider} is never linked to an existing account automatically.
        </p>
        <p>To link it, sign in to that FANZ account first (with its password or passkey), then come back to this page within 10 minutes to confirm.</p>
        <div class="actions">
          <a class="button" href={loginHref()}>
            Sign in to link {provider}
          </a>
        </div>
      </>,
    )
  }
  if (session.userId !== account.id) {
    return refusalPage(
      c,
      403,
      'Signed in to a different account',
      `You are signed in to a different FANZ account than the one using ${pending.profile.email}. ${provider} can only be linked by the owner of that account: sign out, sign in to it, and come back to this page.`,
      START_AGAIN,
    )
  }
  return socialPage(
    c,
    200,
    `Link ${provider} to your account`,
    <>
      <p>
        Confirm that the {provider} account <strong>{pending.profile.email}</strong> may sign you in to your FANZ account from now on.
      </p>
      <form method="post" action={PENDING_LINK_PATH} class="actions">
        <button type="submit">Link {provider}</button>
        <a class="button secondary" href={continueTo(pending.requestId)}>
          Not now
        </a>
      </form>
    </>,
  )
})

linkingRoutes.post('/social/link', async (c) => {
  if (!isSameOrigin(c)) return refusalPage(c, 403, 'Link refused', 'The confirmation must be sent from the FanzSSO link page (cross-site request refused). Nothing was linked.', START_AGAIN)
  const found = await pendingLinkOrRefusal(c)
  if ('refusal' in found) return found.refusal
  const { pending, account, provider } = found
  // (c) the visitor is signed in as that very account
  const session = await readIdpSession(c)
  if (!session) return refusalPage(c, 401, 'Sign in first', `Sign in to the FANZ account using ${pending.profile.email} before linking ${provider}. Nothing was linked.`, { href: loginHref(), label: 'Sign in' })
  if (session.userId !== account.id) {
    return refusalPage(c, 403, 'Link refused', `You are signed in to a different FANZ account than the one using ${pending.profile.email}. Nothing was linked.`, START_AGAIN)
  }
  const linked = await linkIdentity(c.env.DB, account.id, pending.profile)
  clearSealedCookie(c, PENDING_LINK_COOKIE, { path: PENDING_LINK_PATH })
  if (!linked.ok) return refusalPage(c, 409, 'Already linked', `This ${provider} account is already linked to a FANZ account. Nothing was changed.`, START_AGAIN)
  await audit(actorContext(c, account.id), 'sso.social.link', `user:${account.id}`, {
    provider: pending.profile.provider,
    provider_email_verified: true,
    session_id: session.sessionId,
  })
  return c.redirect(continueTo(pending.requestId), 303)
})

linkingRoutes.post('/social/:provider/unlink', async (c) => {
  const provider = providerParam(c)
  if (!isSameOrigin(c)) return refusalPage(c, 403, 'Unlink refused', 'The request must be sent from a FanzSSO page (cross-site request refused). Nothing was changed.', START_AGAIN)
  const session = await readIdpSession(c)
  if (!session) return refusalPage(c, 401, 'Sign in first', `Sign in to your FANZ account to unlink ${label(provider)}.`, { href: '/login', label: 'Sign in' })
  const form = await readForm(c)
  const subject = typeof form.subject === 'string' && form.subject.length <= 255 ? form.subject : undefined
  const candidates = (await identitiesOf(c.env.DB, session.userId)).filter((i) => i.provider === provider && (subject === undefined || i.subject === subject))
  if (candidates.length === 0) return refusalPage(c, 404, 'Nothing to unlink', `No ${label(provider)} account is linked to your FANZ account.`, { href: '/account', label: 'Back to your account' })
  if (candidates.length > 1) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `several ${label(provider)} accounts are linked: say which`, errors: [{ path: 'body.subject', message: 'is required when several accounts of this provider are linked' }] })
  }
  const identity = candidates[0]!
  const removed = await unlinkIdentity(c.env.DB, session.userId, identity)
  if (!removed.ok) {
    if (removed.reason === 'not_found') return refusalPage(c, 404, 'Nothing to unlink', `No ${label(provider)} account is linked to your FANZ account.`, { href: '/account', label: 'Back to your account' })
    return refusalPage(
      c,
      409,
      'Unlink refused',
      `${label(provider)} is the only way to sign in to this account (no password, passkey or other linked account). Set a password or add a passkey first, then unlink ${label(provider)}.`,
      { href: '/account', label: 'Back to your account' },
    )
  }
  await audit(actorContext(c, session.userId), 'sso.social.unlink', `user:${session.userId}`, { provider, session_id: session.sessionId })
  return socialPage(
    c,
    200,
    `${label(provider)} unlinked`,
    <>
      <p role="status">{label(provider)} can no longer sign you in to your FANZ account.</p>
      <div class="actions">
        <a class="button secondary" href="/account">
          Back to your account
        </a>
      </div>
    </>,
  )
})
