import { defineConfig } from 'drizzle-kit'

// drizzle-kit only writes SQL here; `wrangler d1 migrations apply` applies it (see stack.md).
export default defineConfig({
  dialect: 'sqlite',
  schema: './d1/schema/index.ts',
  out: './d1/migrations',
})
