/**
 * What the edge middleware learns about a request, typed once for every subsystem.
 * @module
 */
import type { Config } from '../config'
import type { JurisdictionPolicy } from '../compliance/jurisdictions'
import type { BrandView } from '../routing/snapshot'
import type { Role } from './roles'

/** Which face of the platform a host shows. */
export type Surface = 'brand' | 'sso' | 'api' | 'dash' | 'platform'

export interface Geo {
  /** ISO 3166-1 alpha-2, `T1` for Tor, `XX` unknown, null when the edge gave none */
  country: string | null
  /** ISO 3166-2 subdivision suffix, e.g. `TX` */
  region: string | null
  continent: string | null
  asn: number | null
  isTor: boolean
  source: 'cf' | 'dev-override' | 'dev-default' | 'none'
}

export interface AuthContext {
  subject: string
  /** roles held on every brand (`roles` claim) */
  roles: Role[]
  /** brand slug -> roles held only on that brand (`brand_roles` claim) */
  brandRoles: Record<string, Role[]>
  /** the token carries an unexpired age-verification result */
  ageVerified: boolean
  /** authentication methods and time, for step-up checks */
  amr: string[]
  authTimeS: number | undefined
  /** authentication context class (`acr`), e.g. `urn:fanz:acr:aal2` */
  acr: string | undefined
  claims: Record<string, unknown>
  source: 'bearer' | 'cookie'
}

export interface EdgeVariables {
  requestId: string
  config: Config
  surface: Surface
  brand: BrandView | null
  geo: Geo
  jurisdiction: JurisdictionPolicy
  auth: AuthContext | null
  /** why a presented token was not accepted (absent when none was presented) */
  authError: string | undefined
  /** per-response CSP nonce for inline scripts and styles */
  secureHeadersNonce: string
}

export type AppEnv = { Bindings: Env; Variables: EdgeVariables }
