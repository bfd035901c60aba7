import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { brands } from './brands'
import { users } from './sso'

/**
 * OAuth 2.1 / OIDC clients of FanzSSO. Every brand and FanzDash is a first-party confidential
 * client seeded from d1/seed.sql; their secrets are derived from SIGNING_MASTER_KEY (never stored).
 * Other clients (service clients for client_credentials, partners) are registered through the
 * management API; only the SHA-256 of their high-entropy secret is stored.
 */
export const oauthClients = sqliteTable('oauth_clients', {
  /** the `client_id`, e.g. `boyfanz` or `svc_01J...` */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind', { enum: ['brand', 'dash', 'service', 'partner'] }).notNull(),
  brandId: text('brand_id').references(() => brands.id),
  /** `derived` (first-party, HMAC of SIGNING_MASTER_KEY), `hashed` (secret_hash), `none` (public, PKCE only) */
  secretKind: text('secret_kind', { enum: ['derived', 'hashed', 'none'] }).notNull(),
  secretHash: text('secret_hash'),
  /** JSON arrays of exact URIs (RFC 9700 §4.1.3: exact string match) */
  redirectUrisJson: text('redirect_uris_json').notNull().default('[]'),
  postLogoutRedirectUrisJson: text('post_logout_redirect_uris_json').notNull().default('[]'),
  /** JSON array of allowed grant types */
  grantTypesJson: text('grant_types_json').notNull(),
  /** space-separated scopes the client may ask for */
  scope: text('scope').notNull(),
  /** OIDC Back-Channel Logout 1.0 receiver, or null */
  backchannelLogoutUri: text('backchannel_logout_uri'),
  /** JWS alg of this client's ID tokens (OIDC Dynamic Registration's `id_token_signed_response_alg`) */
  idTokenSignedResponseAlg: text('id_token_signed_response_alg', { enum: ['EdDSA', 'RS256'] }).notNull().default('EdDSA'),
  /** first-party clients skip the consent screen */
  firstParty: integer('first_party', { mode: 'boolean' }).notNull().default(false),
  status: text('status', { enum: ['active', 'disabled'] }).notNull().default('active'),
  createdAtMs: integer('created_at_ms').notNull(),
  updatedAtMs: integer('updated_at_ms').notNull(),
})

/**
 * Authorization requests waiting for the user to sign in (`/authorize` -> sign-in pages ->
 * `/authorize/resume`). Validated parameters only; expire after 10 minutes; completed once.
 */
export const authRequests = sqliteTable(
  'auth_requests',
  {
    /** `arq_` + ULID */
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => oauthClients.id),
    paramsJson: text('params_json').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    expiresAtMs: integer('expires_at_ms').notNull(),
    completedAtMs: integer('completed_at_ms'),
  },
  (t) => [index('auth_requests_expires_idx').on(t.expiresAtMs)],
)

/**
 * Roles, optionally scoped to one brand (`scope` = brand id) or global (`scope` = `*`).
 * The permission model lives in workers/sso/roles; tokens carry the result.
 */
export const userRoles = sqliteTable(
  'user_roles',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role').notNull(),
    scope: text('scope').notNull().default('*'),
    grantedBy: text('granted_by').notNull(),
    grantedAtMs: integer('granted_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.role, t.scope] }), index('user_roles_role_idx').on(t.role, t.scope)],
)

/** Per-brand profile overrides (display name, avatar); null columns fall back to the central profile. */
export const profileOverrides = sqliteTable(
  'profile_overrides',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    brandId: text('brand_id')
      .notNull()
      .references(() => brands.id),
    displayName: text('display_name'),
    avatarUrl: text('avatar_url'),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.brandId] })],
)

/** WebAuthn credentials (passkeys) registered on the SSO host's rpId. */
export const passkeys = sqliteTable(
  'passkeys',
  {
    /** credential id, base64url */
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    /** COSE public key, base64url */
    publicKey: text('public_key').notNull(),
    counter: integer('counter').notNull().default(0),
    transportsJson: text('transports_json').notNull().default('[]'),
    deviceType: text('device_type', { enum: ['singleDevice', 'multiDevice'] }).notNull(),
    backedUp: integer('backed_up', { mode: 'boolean' }).notNull(),
    /** the name the user gave it, e.g. "MacBook Touch ID" */
    name: text('name').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    lastUsedAtMs: integer('last_used_at_ms'),
  },
  (t) => [index('passkeys_user_idx').on(t.userId)],
)

/** Single-use WebAuthn challenges (deleted when consumed; 5-minute expiry). */
export const webauthnChallenges = sqliteTable('webauthn_challenges', {
  id: text('id').primaryKey(),
  userId: text('user_id'),
  purpose: text('purpose', { enum: ['register', 'authenticate'] }).notNull(),
  challenge: text('challenge').notNull(),
  expiresAtMs: integer('expires_at_ms').notNull(),
})

/**
 * One-time codes sent by email or SMS (sign-in second factor, phone verification). Only the
 * SHA-256 of the code is stored; attempts are capped; 10-minute expiry (sso.md §6).
 */
export const otpChallenges = sqliteTable(
  'otp_challenges',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    channel: text('channel', { enum: ['email', 'sms'] }).notNull(),
    destination: text('destination').notNull(),
    purpose: text('purpose', { enum: ['sign_in', 'verify_phone', 'step_up'] }).notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    expiresAtMs: integer('expires_at_ms').notNull(),
    consumedAtMs: integer('consumed_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('otp_challenges_user_idx').on(t.userId, t.createdAtMs)],
)

/** The dev SMS outbox (like outbox_messages for mail): written only by the sandbox SMS adapter. */
export const smsOutbox = sqliteTable(
  'sms_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    toE164: text('to_e164').notNull(),
    body: text('body').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('sms_outbox_to_idx').on(t.toE164, t.id)],
)

/** Upstream (social) identities linked to an account. */
export const socialIdentities = sqliteTable(
  'social_identities',
  {
    provider: text('provider').notNull(),
    /** the provider's stable subject (`sub`, user id) */
    providerSubject: text('provider_subject').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    email: text('email'),
    emailVerified: integer('email_verified', { mode: 'boolean' }).notNull(),
    linkedAtMs: integer('linked_at_ms').notNull(),
    lastUsedAtMs: integer('last_used_at_ms'),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerSubject] }), index('social_identities_user_idx').on(t.userId)],
)

/**
 * Session ids (`sid`) a brand learned were logged out through back-channel logout. The edge refuses
 * a brand session cookie whose token carries a listed sid; rows outlive the longest access token.
 */
export const loggedOutSessions = sqliteTable(
  'logged_out_sessions',
  {
    sid: text('sid').notNull(),
    clientId: text('client_id').notNull(),
    expiresAtMs: integer('expires_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sid, t.clientId] }), index('logged_out_sessions_expires_idx').on(t.expiresAtMs)],
)

/**
 * What a user allowed a third-party client (first-party clients never ask): the scopes granted, so
 * the consent screen is shown again only for new scopes. Revoking deletes the row.
 */
export const oauthConsents = sqliteTable(
  'oauth_consents',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    clientId: text('client_id')
      .notNull()
      .references(() => oauthClients.id),
    /** space-separated */
    scope: text('scope').notNull(),
    grantedAtMs: integer('granted_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clientId] })],
)

/** Single-use codes of the sandbox upstream provider (workers/sso/social/sandbox-idp.tsx), outside production only. */
export const sandboxIdpCodes = sqliteTable('sandbox_idp_codes', {
  codeHash: text('code_hash').primaryKey(),
  recordJson: text('record_json').notNull(),
  expiresAtMs: integer('expires_at_ms').notNull(),
})
