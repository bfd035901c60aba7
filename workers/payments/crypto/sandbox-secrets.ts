/**
 * The sandbox crypto processor's credentials (outside production): derived from the master key like
 * the sandbox gateway's secret, so both sides of this Worker agree and nothing is stored.
 * @module
 */
import type { Config } from '../../config'
import { derivedSecret } from '../../lib/secret-box'

export interface SandboxCryptoSecrets {
  /** what checkout sends as `x-api-key` to the sandbox's invoice API */
  apiKey: string
  /** the IPN secret the sandbox signs `x-nowpayments-sig` with */
  ipnSecret: string
  /** signs the sandbox's own hosted invoice links */
  linkSecret: string
}

export async function sandboxCryptoSecrets(config: Config): Promise<SandboxCryptoSecrets> {
  const [apiKey, ipnSecret, linkSecret] = await Promise.all([
    derivedSecret(config.signingMasterKey, 'fanz/sandbox-crypto/api-key/v1'),
    derivedSecret(config.signingMasterKey, 'fanz/sandbox-crypto/ipn/v1'),
    derivedSecret(config.signingMasterKey, 'fanz/sandbox-crypto/invoice-links/v1'),
  ])
  return { apiKey, ipnSecret, linkSecret }
}
