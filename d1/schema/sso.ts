import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * FanzSSO accounts: one person, one account across all five brands (sso.md §1). The email is kept
 * twice: `email_normalized` (trimmed, NFKC, lower-case) is the unique lookup key so `Ann@X.com` and
 * `ann@x.com` can never be two accounts; `email` is what the person typed, for display and mail.
 * `password_hash` is null for social-only accounts; it carries its own algorithm and parameters
 * (`pbkdf2-sha256$<iterations>$<salt>$<hash>`, workers/sso/accounts/password.ts).
 */
export const users = sqliteTable(
  'users',
  {
    /** `usr_` + ULID */
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    emailNormalized: text('email_normalized').notNull().unique(),
    emailVerifiedAtMs: integer('email_verified_at_ms'),
    passwordHash: text('password_hash'),
    displayName: text('display_name').notNull(),
    /** BCP 47 tag, e.g. `en` or `pt-BR` */
    locale: text('locale').notNull().default('en'),
    /** central avatar (https URL); brands may override it (profile_overrides) */
    avatarUrl: text('avatar_url'),
    status: text('status', { enum: ['active', 'disabled'] }).notNull().default('active'),
    /** why an operator disabled the account (shown to operators, audited) */
    disabledReason: text('disabled_reason'),
    /** result of the last age check (HubVault owns the evidence; this is only the outcome) */
    ageVerifiedMethod: text('age_verified_method'),
    ageVerifiedExpiresAtMs: integer('age_verified_expires_at_ms'),
    /** E.164 phone for SMS codes, set only after a code sent to it was entered */
    phoneE164: text('phone_e164'),
    phoneVerifiedAtMs: integer('phone_verified_at_ms'),
    /** TOTP secret sealed under SIGNING_MASTER_KEY (mfa/secret-box.ts); null = not enrolled */
    totpSecretSealed: text('totp_secret_sealed'),
    totpEnabledAtMs: integer('totp_enabled_at_ms'),
    /** last accepted TOTP step: a code at or before it is a replay (RFC 6238 §5.2) */
    totpLastStep: integer('totp_last_step'),
    /** JSON array of SHA-256 hashes of unused recovery codes (mfa/recovery-codes.ts) */
    recoveryCodesJson: text('recovery_codes_json'),
    createdAtMs: integer('created_at_ms').notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [index('users_status_idx').on(t.status)],
)

/**
 * Single-use emailed tokens (verify an address, reset a password). Only the SHA-256 of the token is
 * stored, so a database leak yields nothing usable; `used_at_ms` makes a second use detectable.
 * No cascade on `user_id` (conventions.md §8: D1 ignores `PRAGMA foreign_keys=OFF` during rebuilds).
 */
export const emailTokens = sqliteTable(
  'email_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    purpose: text('purpose', { enum: ['verify_email', 'reset_password'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAtMs: integer('expires_at_ms').notNull(),
    usedAtMs: integer('used_at_ms'),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('email_tokens_user_idx').on(t.userId, t.purpose)],
)

/**
 * The dev outbox: what the outbox mailer "sent" (workers/sso/mail/outbox.ts), so developers and
 * tests can read verification and reset links without a mail provider. Written only when the
 * outbox adapter is selected (ENVIRONMENT dev, or no MAIL_API_TOKEN outside production); read only
 * through the dev-only `GET /api/sso/dev/outbox`. `to_normalized` is the lookup key, as for users.
 */
export const outboxMessages = sqliteTable(
  'outbox_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    toAddress: text('to_address').notNull(),
    toNormalized: text('to_normalized').notNull(),
    fromAddress: text('from_address').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (t) => [index('outbox_messages_to_idx').on(t.toNormalized, t.id)],
)
