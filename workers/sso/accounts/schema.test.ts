import { env } from 'cloudflare:workers'
import { eq } from 'drizzle-orm'
import { beforeEach, describe, expect, it } from 'vitest'
import { emailTokens, users } from '../../../d1/schema'
import { db } from '../../lib/db'
import { isId, newId } from '../../lib/ids'
import { normalizeEmail } from './email'
import { hashPassword, verifyPassword } from './password'

const NOW = 1_790_000_000_000

/** drizzle wraps D1 errors ("Failed query: ..."); the SQLite message is on `cause`. */
async function sqliteError(query: PromiseLike<unknown>): Promise<string> {
  try {
    await query
  } catch (error) {
    return String((error as { cause?: unknown }).cause ?? error)
  }
  return 'no error'
}

describe('sso accounts schema (migration 0001_sso_accounts on D1)', () => {
  beforeEach(async () => {
    // every table that refers to users first (the seed's demo accounts have roles)
    const dependents = ['email_tokens', 'user_roles', 'profile_overrides', 'passkeys', 'otp_challenges', 'social_identities', 'oauth_consents']
    await env.DB.batch([...dependents.map((t) => env.DB.prepare(`DELETE FROM ${t}`)), env.DB.prepare('DELETE FROM users')])
  })

  it('is applied with both tables and no cascading foreign keys', async () => {
    const applied = await env.DB.prepare("SELECT name FROM d1_migrations WHERE name = '0001_sso_accounts.sql'").first<{ name: string }>()
    expect(applied?.name).toBe('0001_sso_accounts.sql')
    const fks = await env.DB.prepare("SELECT \"table\", \"from\", \"to\", on_delete, on_update FROM pragma_foreign_key_list('email_tokens')").all()
    expect(fks.results).toEqual([{ table: 'users', from: 'user_id', to: 'id', on_delete: 'NO ACTION', on_update: 'NO ACTION' }])
    const ddl = await env.DB.prepare("SELECT group_concat(sql, ' ') AS ddl FROM sqlite_master WHERE tbl_name IN ('users', 'email_tokens')").first<{ ddl: string }>()
    expect(ddl!.ddl).not.toMatch(/cascade/i)
  })

  it('stores and reads a user through drizzle', async () => {
    const id = newId('user', NOW)
    const passwordHash = await hashPassword('correct horse battery staple')
    await db(env.DB).insert(users).values({
      id,
      email: 'Ann.Example@Example.COM',
      emailNormalized: normalizeEmail(' Ann.Example@Example.COM '),
      passwordHash,
      displayName: 'Ann',
      createdAtMs: NOW,
      updatedAtMs: NOW,
    })
    const row = await db(env.DB).query.users.findFirst({ where: eq(users.emailNormalized, 'ann.example@example.com') })
    expect(row).toEqual({
      id,
      email: 'Ann.Example@Example.COM',
      emailNormalized: 'ann.example@example.com',
      emailVerifiedAtMs: null,
      passwordHash,
      displayName: 'Ann',
      locale: 'en',
      avatarUrl: null,
      status: 'active',
      disabledReason: null,
      ageVerifiedMethod: null,
      ageVerifiedExpiresAtMs: null,
      phoneE164: null,
      phoneVerifiedAtMs: null,
      totpSecretSealed: null,
      totpEnabledAtMs: null,
      totpLastStep: null,
      recoveryCodesJson: null,
      createdAtMs: NOW,
      updatedAtMs: NOW,
    })
    expect(isId('user', row!.id)).toBe(true)
    expect(await verifyPassword('correct horse battery staple', row!.passwordHash!)).toEqual({ ok: true, needsRehash: false })
  })

  it('allows social-only accounts without a password hash', async () => {
    await db(env.DB).insert(users).values({ id: newId('user', NOW), email: 's@example.com', emailNormalized: 's@example.com', displayName: 'S', createdAtMs: NOW, updatedAtMs: NOW })
    const row = await db(env.DB).query.users.findFirst({ where: eq(users.emailNormalized, 's@example.com') })
    expect(row!.passwordHash).toBeNull()
  })

  it('keeps one account per normalised email', async () => {
    const base = { displayName: 'Ann', createdAtMs: NOW, updatedAtMs: NOW }
    await db(env.DB).insert(users).values({ ...base, id: newId('user', NOW), email: 'ann@example.com', emailNormalized: normalizeEmail('ann@example.com') })
    const duplicate = db(env.DB).insert(users).values({ ...base, id: newId('user', NOW), email: 'ANN@example.com', emailNormalized: normalizeEmail('ANN@example.com') })
    expect(await sqliteError(duplicate)).toMatch(/UNIQUE constraint failed: users\.email_normalized/)
  })

  it('stores email tokens by hash, unique, tied to an existing user', async () => {
    const userId = newId('user', NOW)
    await db(env.DB).insert(users).values({ id: userId, email: 't@example.com', emailNormalized: 't@example.com', displayName: 'T', createdAtMs: NOW, updatedAtMs: NOW })
    const token = { id: 'etk_1', userId, purpose: 'verify_email' as const, tokenHash: 'a'.repeat(64), expiresAtMs: NOW + 600_000, createdAtMs: NOW }
    await db(env.DB).insert(emailTokens).values(token)
    expect(await db(env.DB).query.emailTokens.findFirst({ where: eq(emailTokens.tokenHash, 'a'.repeat(64)) })).toEqual({ ...token, usedAtMs: null })
    expect(await sqliteError(db(env.DB).insert(emailTokens).values({ ...token, id: 'etk_2' }))).toMatch(/UNIQUE constraint failed: email_tokens\.token_hash/)
    expect(await sqliteError(db(env.DB).insert(emailTokens).values({ ...token, id: 'etk_3', tokenHash: 'b'.repeat(64), userId: 'usr_missing' }))).toMatch(/FOREIGN KEY constraint failed/)
    // no cascade: a user with tokens cannot be deleted out from under them
    expect(await sqliteError(db(env.DB).delete(users).where(eq(users.id, userId)))).toMatch(/FOREIGN KEY constraint failed/)
  })
})
