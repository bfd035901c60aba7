/**
 * TOTP enrolment, disabling and recovery-code regeneration (the state changes behind
 * totp.tsx).
 *
 * Enrolment is two steps: the secret is made and kept sealed in a cookie bound to the user
 * (sealed-cookie: AES-GCM, cookie name as additional data, expiry inside) while the visitor adds it
 * to an app; only a correct current code from that app stores it, sealed again for the row
 * (`sealTotpSecret`, owner = user id), together with the accepted step (so that code cannot be
 * replayed at sign-in) and fresh recovery codes, whose hashes alone are kept. The UPDATE is
 * conditional on TOTP being off, so two confirmations cannot both enrol.
 * @module
 */
import type { Context } from 'hono'
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding'
import type { AppEnv } from '../../edge/context'
import { base64url, fromBase64url } from '../../lib/encoding'
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../lib/sealed-cookie'
import { newRecoveryCodes } from '../mfa/recovery-codes'
import { sealTotpSecret } from '../mfa/secret-box'
import { newTotpSecret, totpUri, verifyTotp } from '../mfa/totp'
import { checkTotp, type TotpCheck } from './second-factor'

const PENDING_COOKIE = 'fanz_totp_pending'
const PENDING_TTL_S = 15 * 60
export const TOTP_ISSUER = 'FANZ'

interface PendingTotp {
  userId: string
  /** base64url of the raw secret */
  secret: string
}

export interface Enrolment {
  secret: Uint8Array
  /** base32 in groups of four, for typing into an app */
  manualKey: string
  uri: string
}

function describe(secret: Uint8Array, email: string): Enrolment {
  const base32 = encodeBase32UpperCaseNoPadding(secret)
  // a colon would split the otpauth label; addresses we accept have none, but the URI must not break
  return { secret, manualKey: base32.replace(/(.{4})(?=.)/g, '$1 '), uri: totpUri({ secret, account: email.replaceAll(':', ''), issuer: TOTP_ISSUER }) }
}

async function pendingSecret(c: Context<AppEnv>, userId: string): Promise<Uint8Array | undefined> {
  const pending = await readSealedCookie<PendingTotp>(c, PENDING_COOKIE)
  if (!pending || pending.userId !== userId) return undefined
  try {
    const secret = fromBase64url(pending.secret)
    return secret.byteLength >= 16 ? secret : undefined
  } catch {
    return undefined
  }
}

/** The secret being enrolled: the pending one (a reload shows the same key), or a new one. */
export async function startEnrolment(c: Context<AppEnv>, userId: string, email: string): Promise<Enrolment> {
  let secret = await pendingSecret(c, userId)
  if (!secret) {
    secret = newTotpSecret()
    await setSealedCookie(c, PENDING_COOKIE, { userId, secret: base64url(secret) } satisfies PendingTotp, PENDING_TTL_S)
  }
  return describe(secret, email)
}

export type ConfirmResult = { ok: true; codes: string[] } | { ok: false; reason: 'expired' | 'invalid' | 'already_enabled' }

/** Checks `code` against the pending secret and, if right, turns TOTP on with new recovery codes. */
export async function confirmEnrolment(c: Context<AppEnv>, userId: string, code: string, nowMs = Date.now()): Promise<ConfirmResult> {
  const secret = await pendingSecret(c, userId)
  if (!secret) return { ok: false, reason: 'expired' }
  const check = verifyTotp({ secret, code, nowMs })
  if (!check.ok) return { ok: false, reason: 'invalid' }
  const sealed = await sealTotpSecret({ masterKey: c.var.config.signingMasterKey, ownerId: userId, secret })
  const recovery = newRecoveryCodes()
  const update = await c.env.DB.prepare(
    `UPDATE users SET totp_secret_sealed = ?, totp_enabled_at_ms = ?, totp_last_step = ?, recovery_codes_json = ?, updated_at_ms = ?
     WHERE id = ? AND totp_enabled_at_ms IS NULL`,
  )
    .bind(sealed, nowMs, check.step, JSON.stringify(recovery.hashes), nowMs, userId)
    .run()
  clearSealedCookie(c, PENDING_COOKIE)
  if (update.meta.changes !== 1) return { ok: false, reason: 'already_enabled' }
  return { ok: true, codes: recovery.codes }
}

/** Turns TOTP off after a current code (accepted once, like at sign-in); recovery codes go with it. */
export async function disableTotp(c: Context<AppEnv>, userId: string, code: string): Promise<TotpCheck> {
  const check = await checkTotp(c.env, c.var.config.signingMasterKey, userId, code)
  if (check !== 'ok') return check
  await c.env.DB.prepare(
    `UPDATE users SET totp_secret_sealed = NULL, totp_enabled_at_ms = NULL, totp_last_step = NULL, recovery_codes_json = NULL, updated_at_ms = ? WHERE id = ?`,
  )
    .bind(Date.now(), userId)
    .run()
  return 'ok'
}

/** New recovery codes after a current code; the old ones stop working at once. */
export async function regenerateRecoveryCodes(c: Context<AppEnv>, userId: string, code: string): Promise<{ ok: true; codes: string[] } | { ok: false; reason: TotpCheck }> {
  const check = await checkTotp(c.env, c.var.config.signingMasterKey, userId, code)
  if (check !== 'ok') return { ok: false, reason: check }
  const recovery = newRecoveryCodes()
  await c.env.DB.prepare('UPDATE users SET recovery_codes_json = ?, updated_at_ms = ? WHERE id = ? AND totp_enabled_at_ms IS NOT NULL')
    .bind(JSON.stringify(recovery.hashes), Date.now(), userId)
    .run()
  return { ok: true, codes: recovery.codes }
}
