/**
 * The Worker's configuration, parsed from `env` once per isolate with zod, so a missing secret or
 * a typo in wrangler.toml fails loudly at the first request instead of deep inside a handler.
 * @module
 */
import { z } from 'zod'

const EnvSchema = z.object({
  ENVIRONMENT: z.enum(['dev', 'staging', 'production']),
  PLATFORM_DOMAIN: z.string().min(1),
  DEV_DEFAULT_GEO: z.string().default(''),
  SIGNING_KEY_ROTATE_DAYS: z.coerce.number().int().min(1).max(365),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  SIGNING_MASTER_KEY: z.string().min(32, 'SIGNING_MASTER_KEY must be at least 32 characters'),
  DEV_TOKEN_SECRET: z.string().optional(),
})

export type Environment = z.infer<typeof EnvSchema>['ENVIRONMENT']

export interface Config {
  environment: Environment
  isProduction: boolean
  /** dev-only conveniences (geo override header, token minting) are on */
  isDev: boolean
  platformDomain: string
  hosts: { sso: string; api: string; dash: string }
  /** issuer of every token, and the OIDC provider's identifier */
  issuer: string
  accessTokenAudience: string
  accessTokenTtlSeconds: number
  signingKeyRotateDays: number
  devDefaultGeo: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  signingMasterKey: string
  devTokenSecret: string | undefined
  /** session cookie name: `__Host-` needs Secure, which plain-http local hosts cannot give in every client */
  sessionCookie: string
}

const cache = new WeakMap<object, Config>()

export function getConfig(env: Env): Config {
  const cached = cache.get(env)
  if (cached) return cached
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    throw new Error(`invalid Worker configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  const v = parsed.data
  const isProduction = v.ENVIRONMENT === 'production'
  const scheme = v.ENVIRONMENT === 'dev' ? 'http' : 'https'
  const config: Config = {
    environment: v.ENVIRONMENT,
    isProduction,
    isDev: v.ENVIRONMENT === 'dev',
    platformDomain: v.PLATFORM_DOMAIN,
    hosts: { sso: `sso.${v.PLATFORM_DOMAIN}`, api: `api.${v.PLATFORM_DOMAIN}`, dash: `dash.${v.PLATFORM_DOMAIN}` },
    issuer: `${scheme}://sso.${v.PLATFORM_DOMAIN}`,
    accessTokenAudience: 'fanz',
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
    signingKeyRotateDays: v.SIGNING_KEY_ROTATE_DAYS,
    devDefaultGeo: v.ENVIRONMENT === 'dev' ? v.DEV_DEFAULT_GEO : '',
    logLevel: v.LOG_LEVEL,
    signingMasterKey: v.SIGNING_MASTER_KEY,
    devTokenSecret: v.ENVIRONMENT === 'dev' ? v.DEV_TOKEN_SECRET : undefined,
    sessionCookie: v.ENVIRONMENT === 'dev' ? 'fanz_session' : '__Host-fanz_session',
  }
  cache.set(env, config)
  return config
}
