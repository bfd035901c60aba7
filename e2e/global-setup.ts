/**
 * Starts one `wrangler dev` (fresh D1 under a temp dir, migrated and seeded) for the whole browser
 * suite and hands its port to the test files through `provide`/`inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort, startDevServer } from '../scripts/dev-server.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    port: number
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const persistTo = mkdtempSync(join(tmpdir(), 'fanz-e2e-'))
  const server = await startDevServer({ port: await freePort(), persistTo, stdio: 'ignore' })
  project.provide('port', server.port)
  return async () => {
    await server.stop()
    rmSync(persistTo, { recursive: true, force: true })
  }
}
