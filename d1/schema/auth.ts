import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * Token-signing keys. Lifecycle: next (published in JWKS, not yet signing) -> active (signs) ->
 * retired (published until every token it signed has expired) -> deleted.
 */
export const signingKeys = sqliteTable(
  'signing_keys',
  {
    kid: text('kid').primaryKey(),
    alg: text('alg').notNull(),
    state: text('state', { enum: ['next', 'active', 'retired'] }).notNull(),
    publicJwk: text('public_jwk').notNull(),
    /** AES-256-GCM ciphertext of the private JWK under a key derived from SIGNING_MASTER_KEY; base64url */
    privateJwkEnc: text('private_jwk_enc').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    activatedAtMs: integer('activated_at_ms'),
    retiredAtMs: integer('retired_at_ms'),
    /** retired keys leave the JWKS after this instant */
    expiresAtMs: integer('expires_at_ms'),
  },
  (t) => [index('signing_keys_state_idx').on(t.state)],
)
