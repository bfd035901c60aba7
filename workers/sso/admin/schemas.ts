/**
 * Request and response shapes of the FanzSSO management API. Bodies are `.strict()`: an unknown
 * field is a 422 naming it. Responses never carry a secret or a hash (password, TOTP, recovery
 * codes, client secrets); a client secret appears exactly once, in the answer that created it.
 * @module
 */
import { z } from '@hono/zod-openapi'
import { ROLES } from '../../edge/roles'
import { PageQuery } from '../../lib/pagination'
import { PERMISSIONS } from '../roles/permissions'

export const iso = (ms: number) => new Date(ms).toISOString()
export const isoOrNull = (ms: number | null | undefined) => (typeof ms === 'number' ? iso(ms) : null)

export const UserIdParam = z.object({ id: z.string().regex(/^usr_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a user id (usr_ + ULID)').openapi({ param: { name: 'id', in: 'path' }, example: 'usr_01JFANZ00000000000000000AA' }) })

export const SessionParams = UserIdParam.extend({
  sessionId: z.string().regex(/^ses_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a session id (ses_ + ULID)').openapi({ param: { name: 'sessionId', in: 'path' } }),
})

export const BrandSlug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a brand slug')
export const RoleName = z.enum(ROLES)

export const UserStatus = z.enum(['active', 'disabled'])

export const UserSearchQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(254).optional().openapi({ description: 'a user id, an email prefix or a display-name prefix' }),
  status: UserStatus.optional(),
  role: RoleName.optional().openapi({ description: 'users holding this role globally or on any brand' }),
})

export const UserSummary = z
  .object({
    id: z.string(),
    email: z.string(),
    email_verified: z.boolean(),
    display_name: z.string(),
    status: UserStatus,
    created_at: z.iso.datetime(),
  })
  .openapi('SsoUserSummary')

export const UserPage = z.object({ items: z.array(UserSummary), next_cursor: z.string().nullable() }).openapi('SsoUserPage')

export const Grant = z
  .object({ role: RoleName, brand: z.string().nullable(), granted_by: z.string(), granted_at: z.iso.datetime() })
  .openapi('SsoRoleGrant')

export const UserRolesView = z
  .object({
    user_id: z.string(),
    /** effective global roles (`fan` included), as a token would carry them */
    roles: z.array(RoleName),
    brand_roles: z.record(z.string(), z.array(RoleName)),
    grants: z.array(Grant),
  })
  .openapi('SsoUserRoles')

export const UserDetail = UserSummary.extend({
  locale: z.string(),
  avatar_url: z.string().nullable(),
  disabled_reason: z.string().nullable(),
  updated_at: z.iso.datetime(),
  age_verified: z.object({ method: z.string(), expires_at: z.iso.datetime() }).nullable(),
  phone_verified: z.boolean(),
  roles: z.array(RoleName),
  brand_roles: z.record(z.string(), z.array(RoleName)),
  social_providers: z.array(z.object({ provider: z.string(), linked_at: z.iso.datetime(), last_used_at: z.iso.datetime().nullable() })),
  passkey_count: z.number().int(),
  mfa: z.object({ enrolled: z.boolean(), totp: z.boolean(), sms: z.boolean(), passkeys: z.boolean(), recovery_codes_left: z.number().int() }),
  sessions_count: z.number().int(),
}).openapi('SsoUserDetail')

export const DisableRequest = z
  .object({ reason: z.string().trim().min(3).max(500).regex(/^[^\p{Cc}]*$/u, 'must contain only printable characters') })
  .strict()
  .openapi('SsoDisableUserRequest')

export const UserStatusChange = z
  .object({ user_id: z.string(), status: UserStatus, disabled_reason: z.string().nullable(), sessions_revoked: z.number().int() })
  .openapi('SsoUserStatusChange')

export const SessionView = z
  .object({
    session_id: z.string(),
    client_id: z.string(),
    parent_id: z.string().nullable(),
    device: z.string(),
    ip: z.string().nullable(),
    country: z.string().nullable(),
    amr: z.array(z.string()),
    auth_time: z.iso.datetime(),
    created_at: z.iso.datetime(),
    last_seen_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    idle_expires_at: z.iso.datetime(),
  })
  .openapi('SsoSession')

export const SessionList = z.object({ items: z.array(SessionView) }).openapi('SsoSessionList')

export const RevokedView = z
  .object({ revoked: z.array(z.object({ session_id: z.string(), client_id: z.string() })) })
  .openapi('SsoSessionsRevoked')

// ---- clients

export const ClientIdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be a client id').openapi({ param: { name: 'id', in: 'path' } }) })

const Uri = z.string().min(1).max(2048)
const UriList = z.array(Uri).max(20)

export const ClientView = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['brand', 'dash', 'service', 'partner']),
    brand_id: z.string().nullable(),
    first_party: z.boolean(),
    secret_kind: z.enum(['derived', 'hashed', 'none']),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    scope: z.string(),
    backchannel_logout_uri: z.string().nullable(),
    id_token_signed_response_alg: z.enum(['EdDSA', 'RS256']),
    status: z.enum(['active', 'disabled']),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('SsoClient')

export const ClientPage = z.object({ items: z.array(ClientView), next_cursor: z.string().nullable() }).openapi('SsoClientPage')

export const ClientListQuery = PageQuery.extend({ kind: z.enum(['brand', 'dash', 'service', 'partner']).optional() })

export const ClientCreate = z
  .object({
    name: z.string().trim().min(1).max(80),
    /** `service`: client_credentials only; `partner`: authorization code + PKCE with redirect URIs */
    kind: z.enum(['service', 'partner']),
    redirect_uris: UriList.default([]),
    post_logout_redirect_uris: UriList.default([]),
    scope: z.string().max(512).optional().openapi({ description: 'space-separated; defaults to `openid profile` for partners, empty for services' }),
    backchannel_logout_uri: Uri.nullable().default(null),
    id_token_signed_response_alg: z.enum(['EdDSA', 'RS256']).default('RS256').openapi({ description: 'how this client\'s ID tokens are signed; RS256 is what most OIDC libraries expect' }),
  })
  .strict()
  .openapi('SsoClientCreate')

export const ClientUpdate = z
  .object({
    name: z.string().trim().min(1).max(80),
    redirect_uris: UriList,
    post_logout_redirect_uris: UriList,
    backchannel_logout_uri: Uri.nullable(),
    status: z.enum(['active', 'disabled']),
  })
  .partial()
  .strict()
  .openapi('SsoClientUpdate')

export const ClientWithSecret = ClientView.extend({
  client_secret: z.string().openapi({ description: 'shown once; only its hash is stored' }),
}).openapi('SsoClientWithSecret')

// ---- roles

export const RoleTable = z
  .object({
    permissions: z.array(z.enum(PERMISSIONS)),
    roles: z.array(
      z.object({
        role: RoleName,
        permissions: z.array(z.enum(PERMISSIONS)),
        /** the permission a caller needs to grant or revoke this role; null when it is never granted */
        granted_with: z.enum(PERMISSIONS).nullable(),
        brand_scopable: z.boolean(),
      }),
    ),
  })
  .openapi('SsoRoleTable')

export const GrantRequest = z.object({ role: RoleName, brand: BrandSlug.optional() }).strict().openapi('SsoGrantRoleRequest')

export const RoleParams = UserIdParam.extend({ role: RoleName.openapi({ param: { name: 'role', in: 'path' } }) })
export const RevokeQuery = z.object({ brand: BrandSlug.optional() })

export const GrantResult = z
  .object({ user_id: z.string(), role: RoleName, brand: z.string().nullable(), changed: z.boolean(), roles: UserRolesView })
  .openapi('SsoRoleChange')
