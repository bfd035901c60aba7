import { readFileSync } from 'node:fs'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { configDefaults, defineConfig } from 'vitest/config'
import { bytesFixtures } from './scripts/vite-bytes-plugin.mjs'

// Tests run inside workerd against the real bindings of wrangler.toml (top-level = dev).
export default defineConfig(async () => ({
  plugins: [
    bytesFixtures(),
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations('d1/migrations'),
          TEST_SEED_SQL: readFileSync('d1/seed.sql', 'utf8'),
          // tests pass `cf` explicitly; no dev default location stands in for it
          DEV_DEFAULT_GEO: '',
          SIGNING_MASTER_KEY: 'test-master-key-0123456789abcdef0123456789abcdef',
          DEV_TOKEN_SECRET: 'test-dev-token-secret',
          // version 2 active, version 1 still listed: rotation is exercised by the tests
          VAULT_KEKS: '2:dGVzdC12YXVsdC1rZWstdmVyc2lvbi0yLTAxMjM0NTY,1:dGVzdC12YXVsdC1rZWstdmVyc2lvbi0xLTAxMjM0NTY',
          MEDIA_MARK_KEY: 'test-media-mark-key-0123456789abcdef0123456789',
          LOG_LEVEL: 'error',
        },
      },
    }),
  ],
  test: {
    include: ['workers/**/*.test.ts', 'durable-objects/**/*.test.ts', 'r2/**/*.test.ts', 'test/**/*.test.ts'],
    // Node-side tests (child processes, files) run in their own project: vitest.node.config.ts
    exclude: [...configDefaults.exclude, '**/*.node.test.ts'],
    setupFiles: ['./test/setup.ts'],
    isolate: false,
    testTimeout: 20_000,
    // workers-sdk #14736: a Durable Object RPC that throws surfaces as an unhandled remote rejection
    onUnhandledError: (error: { remote?: boolean }) => error.remote !== true,
  },
}))
