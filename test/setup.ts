import { applyD1Migrations, reset } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll } from 'vitest'
import { invalidateSnapshot } from '../workers/routing/snapshot'
import { forgetCachedKeys } from '../workers/sso/keys'
import { forgetVerifierCache } from '../workers/edge/auth'

// Files share one runtime (isolate: false): give each file a clean, migrated, seeded database.
beforeAll(async () => {
  await reset()
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
  await seed(env.DB, env.TEST_SEED_SQL)
  invalidateSnapshot()
  forgetCachedKeys()
  forgetVerifierCache()
})

async function seed(db: D1Database, sql: string): Promise<void> {
  const statements = sql
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('--'))
    .map((line) => db.prepare(line))
  await db.batch(statements)
}
