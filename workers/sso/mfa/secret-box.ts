/**
 * TOTP secrets at rest: sealed with AES-256-GCM (workers/lib/secret-box) under a key derived from
 * the master secret with its own HKDF info `totp-secret/v1`, so it is independent of the
 * signing-key wrap, and with the owner's id as additional data, so a sealed secret copied onto
 * another account's row does not open. The plaintext exists only in memory while verifying or
 * while showing the enrolment QR code.
 * @module
 */
import { sealSecret, unsealSecret, type SecretBoxPurpose } from '../../lib/secret-box'

export const TOTP_SECRET_BOX: SecretBoxPurpose = { salt: 'fanz/mfa', info: 'totp-secret/v1' }

/** `masterKey`: the SIGNING_MASTER_KEY-like secret (`config.signingMasterKey`); `ownerId`: the user id. */
export function sealTotpSecret({ masterKey, ownerId, secret }: { masterKey: string; ownerId: string; secret: Uint8Array }): Promise<string> {
  if (!ownerId) throw new TypeError('ownerId is required')
  return sealSecret(masterKey, TOTP_SECRET_BOX, ownerId, secret)
}

/** Rejects if the value was sealed for another owner or purpose, under another master key, or altered. */
export function unsealTotpSecret({ masterKey, ownerId, sealed }: { masterKey: string; ownerId: string; sealed: string }): Promise<Uint8Array> {
  if (!ownerId) throw new TypeError('ownerId is required')
  return unsealSecret(masterKey, TOTP_SECRET_BOX, ownerId, sealed)
}
