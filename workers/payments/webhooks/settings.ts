/**
 * Gateway settings (salts, shop ids, postback tokens, allowlists) come from one secret,
 * `PAYMENT_GATEWAYS` (JSON: gateway id -> that adapter's settings object), so rotating a gateway
 * credential is one `wrangler secret put`. The sandbox gateway exists outside production only and
 * needs no configuration: its secret is derived from SIGNING_MASTER_KEY.
 * @module
 */
import { z } from 'zod'
import type { Config } from '../../config'
import { derivedSecret } from '../../lib/secret-box'
import type { GatewaySettings } from '../gateways/registry'
import { isGatewayId } from '../gateways/registry'
import { compileAllowlist } from '../gateways/ip-allowlist'
import type { GatewayId } from '../gateways/types'

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
  const raw = (env as unknown as { PAYMENT_GATEWAYS?: string }).PAYMENT_GATEWAYS
  if (!raw) return null
  let parsed: z.infer<typeof Configured>
  try {
    parsed = Configured.parse(JSON.parse(raw))
  } catch {
    // a broken secret must fail loudly, not silently accept or refuse every postback
    throw new Error('PAYMENT_GATEWAYS is not a JSON object of gateway settings')
  }
  const settings = parsed[gateway]
  // source-IP allowlists arrive as CIDR/range strings and are compiled once here
  if (settings && Array.isArray(settings.allowlist)) settings.allowlist = compileAllowlist(settings.allowlist.map(String))
  return settings && isGatewayId(gateway) ? (settings as unknown as GatewaySettings[K]) : null
}
