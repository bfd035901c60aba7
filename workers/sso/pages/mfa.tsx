/**
 * `GET/POST /login/mfa`: the second step of a sign-in that needs one (`pendingMfa`, a sealed
 * 10-minute cookie set by `completeSignIn`). Offers what the user enrolled: an authenticator-app
 * code (TOTP, accepted once: second-factor.ts), a passkey, a code by text message or email
 * (otp/), or a recovery code (spent once, audited). Every try costs an attempt on the user's MFA throttle.
 * @module
 */
import type { Context } from 'hono'
import { audit } from '../../compliance/audit'
import type { AppEnv } from '../../edge/context'
import { spendAttempt } from '../accounts/api-throttle'
import { ProblemError } from '../../edge/problem'
import { completeMfa, enrolledSecondFactors, pendingMfa, type PendingMfa } from '../login/complete'
import { afterSignIn } from '../login/continue-page'
import { sendSignInCode, verifySignInCode } from '../otp/flows'
import { PasskeySignIn } from '../passkeys/ui'
import { formPost, page, readFields } from './forms'
import { checkTotp, mfaThrottle, parseHashes, spendRecoveryCode } from './second-factor'
import { ErrorSummary, Field, respond, withRequest, type FieldErrors } from './ui'

const LABELS = { code: 'Code from your authenticator app', recovery_code: 'Recovery code', otp_code: 'Code we sent you', channel: 'Where to send a code' }

export const MFA_MESSAGES = {
  totpInvalid: 'That code is not right. Enter the 6-digit code your app shows now.',
  totpReplayed: 'That code was already used. Wait for the next code in your app.',
  recoveryInvalid: 'That recovery code is not right, or it was already used.',
}

interface MfaView {
  pending: PendingMfa
  factors: Array<'totp' | 'sms' | 'passkey'>
  hasRecoveryCodes: boolean
  /** a code sent by text or email, waiting to be typed in */
  sent?: { challengeId: string; channel: 'sms' | 'email'; sentTo: string }
  errors?: FieldErrors
}

function mfaPage(c: Context<AppEnv>, view: MfaView, status: 200 | 401 = 200): Response | Promise<Response> {
  const errors = view.errors ?? {}
  const requestId = view.pending.requestId
  return respond(
    c,
    'Confirm it’s you',
    <div class="panel">
      <p class="eyebrow">Two-step verification</p>
      <h1>Confirm it’s you</h1>
      <ErrorSummary errors={errors} labels={LABELS} />
      {view.factors.includes('totp') ? (
        <section aria-labelledby="totp-title">
          <h2 id="totp-title">Authenticator app</h2>
          <form method="post" action={withRequest('/login/mfa', requestId)} class="stack" novalidate>
            <input type="hidden" name="method" value="totp" />
            <Field
              id="code"
              label={LABELS.code}
              autocomplete="one-time-code"
              inputmode="numeric"
              pattern="[0-9 ]*"
              maxlength={7}
              hint="The 6-digit code in the app where you added FANZ."
              error={errors.code}
            />
            <button type="submit">Continue</button>
          </form>
        </section>
      ) : null}
      {view.factors.includes('passkey') ? (
        <section aria-labelledby="passkey-title">
          <h2 id="passkey-title">Passkey</h2>
          <PasskeySignIn nonce={c.var.secureHeadersNonce} requestId={requestId} />
        </section>
      ) : null}
      <section aria-labelledby="otp-title">
        <h2 id="otp-title">Get a one-time code</h2>
        {view.sent ? (
          <form method="post" action={withRequest('/login/mfa', requestId)} class="stack" novalidate>
            <input type="hidden" name="method" value="otp" />
            <input type="hidden" name="challenge_id" value={view.sent.challengeId} />
            <input type="hidden" name="channel" value={view.sent.channel} />
            <Field
              id="otp_code"
              label={LABELS.otp_code}
              autocomplete="one-time-code"
              inputmode="numeric"
              pattern="[0-9 ]*"
              maxlength={7}
              hint={
                view.sent.sentTo
                  ? `We sent a 6-digit code by ${view.sent.channel === 'sms' ? 'text message' : 'email'} to ${view.sent.sentTo}. It works once, for 10 minutes.`
                  : 'Enter the 6-digit code we sent you. It works once, for 10 minutes.'
              }
              error={errors.otp_code}
            />
            <button type="submit">Continue</button>
          </form>
        ) : null}
        <form method="post" action={withRequest('/login/mfa', requestId)} class="stack" novalidate>
          <input type="hidden" name="method" value="otp_send" />
          {errors.channel ? (
            <p class="alert" role="alert" id="channel-error">
              {errors.channel}
            </p>
          ) : null}
          {view.factors.includes('sms') ? (
            <button type="submit" name="channel" value="sms" class="secondary">
              Text me a code
            </button>
          ) : null}{' '}
          <button type="submit" name="channel" value="email" class="secondary">
            Email me a code
          </button>
        </form>
      </section>
      {view.hasRecoveryCodes ? (
        <section aria-labelledby="recovery-title">
          <h2 id="recovery-title">Lost your device?</h2>
          <form method="post" action={withRequest('/login/mfa', requestId)} class="stack" novalidate>
            <input type="hidden" name="method" value="recovery" />
            <Field id="recovery_code" label={LABELS.recovery_code} autocomplete="off" hint="One of the codes you saved when you set up two-step verification, like abcde-12345. Each works once." error={errors.recovery_code} maxlength={32} />
            <button type="submit" class="secondary">
              Use recovery code
            </button>
          </form>
        </section>
      ) : null}
      <p>
        <a href={withRequest('/login', requestId)}>Start again</a>
      </p>
    </div>,
    status,
  )
}

async function viewFor(c: Context<AppEnv>, pending: PendingMfa): Promise<MfaView> {
  const [factors, row] = await Promise.all([
    enrolledSecondFactors(c.env.DB, pending.userId),
    c.env.DB.prepare('SELECT recovery_codes_json AS codes FROM users WHERE id = ?').bind(pending.userId).first<{ codes: string | null }>(),
  ])
  return { pending, factors, hasRecoveryCodes: parseHashes(row?.codes ?? null).length > 0 }
}

export const showMfa = page(async (c) => {
  const pending = await pendingMfa(c)
  if (!pending) return c.redirect(withRequest('/login', c.req.query('request') ?? null), 303)
  return mfaPage(c, await viewFor(c, pending))
})

export const submitMfa = formPost(async (c) => {
  const pending = await pendingMfa(c)
  if (!pending) return c.redirect('/login', 303)
  const fields = await readFields(c)
  const limiter = mfaThrottle(c.env, pending.userId)
  await spendAttempt([limiter], 'verification codes')
  const who = { env: c.env, actor: pending.userId, actorRoles: [], requestId: c.var.requestId }

  if (fields.method === 'recovery') {
    const spent = await spendRecoveryCode(c.env, pending.userId, fields.recovery_code ?? '')
    if (!spent.ok) return mfaPage(c, { ...(await viewFor(c, pending)), errors: { recovery_code: MFA_MESSAGES.recoveryInvalid } }, 401)
    await limiter.recordSuccess()
    await audit(who, 'sso.recovery_code.use', `user:${pending.userId}`, { remaining: spent.remaining })
    return afterSignIn(c, await completeMfa(c, pending, 'otp'))
  }

  if (fields.method === 'otp_send') {
    const channel = fields.channel === 'sms' ? 'sms' : 'email'
    try {
      const sent = await sendSignInCode(c, pending, channel)
      return mfaPage(c, { ...(await viewFor(c, pending)), sent: { challengeId: sent.challengeId, channel, sentTo: sent.sentTo } })
    } catch (err) {
      if (!(err instanceof ProblemError) || err.status >= 500) throw err
      return mfaPage(c, { ...(await viewFor(c, pending)), errors: { channel: err.detail ?? 'No code could be sent. Try another way.' } }, 401)
    }
  }

  if (fields.method === 'otp') {
    try {
      const { next } = await verifySignInCode(c, pending, fields.challenge_id ?? '', fields.otp_code ?? '')
      await limiter.recordSuccess()
      return afterSignIn(c, next)
    } catch (err) {
      if (!(err instanceof ProblemError) || err.status >= 500) throw err
      const view = await viewFor(c, pending)
      const sent = fields.challenge_id ? { challengeId: fields.challenge_id, channel: fields.channel === 'sms' ? ('sms' as const) : ('email' as const), sentTo: '' } : undefined
      return mfaPage(c, { ...view, sent, errors: { otp_code: 'That code is not right, has expired or was already used.' } }, 401)
    }
  }

  const result = await checkTotp(c.env, c.var.config.signingMasterKey, pending.userId, fields.code ?? '')
  if (result !== 'ok') {
    return mfaPage(c, { ...(await viewFor(c, pending)), errors: { code: result === 'replayed' ? MFA_MESSAGES.totpReplayed : MFA_MESSAGES.totpInvalid } }, 401)
  }
  await limiter.recordSuccess()
  return afterSignIn(c, await completeMfa(c, pending, 'otp'))
})
