/**
 * Which KYC providers exist and their credentials. Real providers are configured in one secret,
 * `KYC_PROVIDERS` (JSON: provider id -> `{ apiKey, sharedSecret, baseUrl? }`), so rotating a
 * credential is one `wrangler secret put`. The sandbox provider exists outside production only and
 * needs no configuration: its API key and signing secret are derived from SIGNING_MASTER_KEY.
 * @module
 */
import { z } from 'zod'
import type { Config } from '../../config'
import { derivedSecret } from '../../lib/secret-box'
import type { VeriffSettings } from './veriff'

export const KYC_PROVIDERS = ['veriff', 'sandbox'] as const
export type KycProvider = (typeof KYC_PROVIDERS)[number]

const VERIFF_BASE_URL = 'https://stationapi.veriff.com'

const Configured = z.record(
  z.string(),
  z.object({ apiKey: z.string().min(8), sharedSecret: z.string().min(8), baseUrl: z.url().optional() }),
)

/** The bare platform host (`http://localhost` in dev), where the sandbox provider lives. */
export function platformOrigin(config: Config): string {
  return config.issuer.replace('//sso.', '//')
}

export function apiOrigin(config: Config): string {
  return config.issuer.replace('//sso.', '//api.')
}

export async function sandboxKycSettings(config: Config): Promise<VeriffSettings> {
  return {
    apiKey: await derivedSecret(config.signingMasterKey, 'fanz/sandbox-kyc/api-key/v1'),
    sharedSecret: await derivedSecret(config.signingMasterKey, 'fanz/sandbox-kyc/webhook/v1'),
    baseUrl: `${platformOrigin(config)}/sandbox-kyc`,
  }
}

/** Settings of `provider`, or null when it is not available here (then its routes answer 404). */
export async function kycProviderSettings(env: Env, config: Config, provider: KycProvider): Promise<VeriffSettings | null> {
  if (provider === 'sandbox') return config.isProduction ? null : sandboxKycSettings(config)
  const settings = configured(env)?.[provider]
  return settings ? { apiKey: settings.apiKey, sharedSecret: settings.sharedSecret, baseUrl: settings.baseUrl ?? VERIFF_BASE_URL } : null
}

/** The provider new sessions go to: Veriff when configured, else (outside production) the sandbox. */
export async function defaultKycProvider(env: Env, config: Config): Promise<KycProvider | null> {
  if (configured(env)?.veriff) return 'veriff'
  return config.isProduction ? null : 'sandbox'
}

function configured(env: Env): z.infer<typeof Configured> | null {
  const raw = (env as unknown as { KYC_PROVIDERS?: string }).KYC_PROVIDERS
  if (!raw) return null
  try {
    return Configured.parse(JSON.parse(raw))
  } catch {
    // a broken secret must fail loudly, not silently refuse every webhook
    throw new Error('KYC_PROVIDERS is not a JSON object of { apiKey, sharedSecret, baseUrl? } per provider')
  }
}
