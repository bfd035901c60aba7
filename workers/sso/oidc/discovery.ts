/**
 * OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414). The issuer is pinned in config and
 * every endpoint is built from it, never from the Host header (sso.md X2).
 * @module
 */
import type { Config } from '../../config'
import { SIGNING_ALGS } from '../keys'
import { SUPPORTED_SCOPES } from './claims'

export function providerMetadata(config: Config) {
  const at = (path: string) => `${config.issuer}${path}`
  return {
    issuer: config.issuer,
    authorization_endpoint: at('/authorize'),
    token_endpoint: at('/token'),
    userinfo_endpoint: at('/userinfo'),
    jwks_uri: at('/.well-known/jwks.json'),
    revocation_endpoint: at('/revoke'),
    introspection_endpoint: at('/introspect'),
    end_session_endpoint: at('/end-session'),
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    userinfo_signing_alg_values_supported: ['none'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid', 'name', 'picture', 'locale', 'email', 'email_verified', 'roles', 'brand_roles', 'age_verified', 'updated_at'],
    acr_values_supported: ['urn:fanz:acr:aal1', 'urn:fanz:acr:aal2'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
  }
}
