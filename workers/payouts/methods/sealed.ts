/**
 * Payout-method details at rest: the validated method (account numbers, IBANs, addresses) sealed
 * with the secret box under a key of its own purpose, the method id authenticated as additional
 * data (a sealed blob copied onto another method fails to open). Only the payout pipeline (bank
 * files, processor calls) and the method's owner ever open it.
 * @module
 */
import { getConfig } from '../../config'
import { utf8 } from '../../lib/encoding'
import { sealSecret, unsealSecret, type SecretBoxPurpose } from '../../lib/secret-box'
import { parsePayoutMethod, type PayoutMethod } from './methods'

const PURPOSE: SecretBoxPurpose = { salt: 'fanz/payout-methods', info: 'method-details/v1' }

export async function sealMethod(env: Env, methodId: string, method: PayoutMethod): Promise<string> {
  return sealSecret(getConfig(env).signingMasterKey, PURPOSE, methodId, utf8(JSON.stringify(method)))
}

export async function openMethod(env: Env, methodId: string, sealed: string): Promise<PayoutMethod> {
  const plain = await unsealSecret(getConfig(env).signingMasterKey, PURPOSE, methodId, sealed)
  const parsed = parsePayoutMethod(JSON.parse(new TextDecoder().decode(plain)))
  if (!parsed.ok) throw new Error(`payout method ${methodId} no longer validates: ${parsed.errors.map((e) => e.path).join(', ')}`)
  return parsed.method
}
