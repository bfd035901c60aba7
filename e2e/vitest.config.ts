import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Browser tests: Node (not workerd) drives headless Debian Chromium against one `wrangler dev`.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['e2e/**/*.e2e.ts'],
    globalSetup: 'e2e/global-setup.ts',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // one dev server, one browser per file: files run one after another
    fileParallelism: false,
  },
})
