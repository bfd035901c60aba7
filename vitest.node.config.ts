import { defineConfig } from 'vitest/config'

// Tests that need Node (child processes, the file system), which workerd cannot give: `*.node.test.ts`,
// e.g. the SEPA files checked against the EPC XSD with xmllint. Plain vitest, no Workers pool.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['**/*.node.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 20_000,
  },
})
