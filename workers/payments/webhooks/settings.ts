/**
 * Gateway settings (salts, shop ids, postback tokens, allowlists) come from one secret,
 * `PAYMENT_GATEWAYS` (JSON: gateway id -> that adapter's settings object), so rotating a gateway
 * credential is one `wrangler secret put`. The sandbox gateway exists outside production only and
 * needs no configuration: its secret is derived from SIGNING_MASTER_KEY. Likewise outside
 * production, NOWPayments (unless configured) is our sandbox crypto processor with derived keys, and
 * bank transfers (unless configured) print a sandbox receiving account.
 * @module
 */
import { z } from 'zod'
import type { Config } from '../../config'
import { derivedSecret } from '../../lib/secret-box'
import type { GatewaySettings } from '../gateways/registry'
import { isGatewayId } from '../gateways/registry'
import { compileAllowlist } from '../gateways/ip-allowlist'
import type { GatewayId } from '../gateways/types'
import { BankAccount, SANDBOX_BANK_ACCOUNT } from '../gateways/bank-transfer'
import { sandboxCryptoSecrets } from '../crypto/sandbox-secrets'

const Configured = z.record(z.string(), z.record(z.string(), z.unknown()))

/** The sandbox gateway's shared secret: HMAC(master key, label), like first-party client secrets. */
export function sandboxSecret(config: Config): Promise<string> {
  return derivedSecret(config.signingMasterKey, 'fanz/sandbox-gateway/v1')
}

/** Settings for `gateway`, or null when it is not configured (then it is not offered). */
export async function gatewaySettings<K extends GatewayId>(env: Env, config: Config, gateway: K): Promise<GatewaySettings[K] | null> {
  if (gateway === 'sandbox') {
    if (config.isProduction) return null
    const settings: GatewaySettings['sandbox'] = { secret: await sandboxSecret(config), hostedFormUrl: `${config.issuer.replace('//sso.', '//')}/sandbox-gateway/checkout` }
    return settings as GatewaySettings[K]
  }
  const parsed = configured(env)
  if (gateway === 'nowpayments' && !parsed?.nowpayments && !config.isProduction) {
    // outside production, without a NOWPayments account configured: our sandbox processor, same API
    const secrets = await sandboxCryptoSecrets(config)
    const settings: GatewaySettings['nowpayments'] = { apiKey: secrets.apiKey, ipnSecret: secrets.ipnSecret, apiBaseUrl: `${platformOrigin(config)}/sandbox-crypto/v1` }
    return settings as GatewaySettings[K]
  }
  if (gateway === 'bank_transfer') return (await bankTransferSettings(config, parsed?.bank_transfer)) as GatewaySettings[K] | null
  if (!parsed) return null
  const settings = parsed[gateway]
  // source-IP allowlists arrive as CIDR/range strings and are compiled once here
  if (settings && Array.isArray(settings.allowlist)) settings.allowlist = compileAllowlist(settings.allowlist.map(String))
  return settings && isGatewayId(gateway) ? (settings as unknown as GatewaySettings[K]) : null
}

/** The bare platform host (`http://localhost` in dev), where the hosted sandbox and instruction pages live. */
function platformOrigin(config: Config): string {
  return config.issuer.replace('//sso.', '//')
}

function configured(env: Env): z.infer<typeof Configured> | null {
  const raw = (env as unknown as { PAYMENT_GATEWAYS?: string }).PAYMENT_GATEWAYS
  if (!raw) return null
  try {
    return Configured.parse(JSON.parse(raw))
  } catch {
    // a broken secret must fail loudly, not silently accept or refuse every postback
    throw new Error('PAYMENT_GATEWAYS is not a JSON object of gateway settings')
  }
}

/**
 * Bank transfers: the receiving account comes from `PAYMENT_GATEWAYS.bank_transfer` (validated:
 * IBAN check digits, BIC, ABA checksum; a wrong account printed to fans must fail loudly), or,
 * outside production, the sandbox account. The instruction links are signed with a derived key.
 */
async function bankTransferSettings(config: Config, raw: Record<string, unknown> | undefined): Promise<GatewaySettings['bank_transfer'] | null> {
  let account: BankAccount
  if (raw) {
    const parsed = BankAccount.safeParse(raw.account ?? raw)
    if (!parsed.success) throw new Error(`PAYMENT_GATEWAYS.bank_transfer is not a valid receiving account: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    account = parsed.data
  } else if (!config.isProduction) account = SANDBOX_BANK_ACCOUNT
  else return null
  return { account, linkSecret: await derivedSecret(config.signingMasterKey, 'fanz/bank-transfer-links/v1'), instructionsUrl: `${platformOrigin(config)}/pay/bank-transfer` }
}
