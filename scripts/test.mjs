#!/usr/bin/env node
// `npm test`: type checks, the workerd suite (unit + integration against real bindings), the Node
// suite (what needs processes or files, e.g. xmllint against the EPC XSD), then the browser suite
// (headless Chromium against wrangler dev). Ends with one `N passed, N failed` line.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const reports = mkdtempSync(join(tmpdir(), 'fanz-test-'))
let passed = 0
let failed = 0
let broken = false

function step(name, command, args) {
  console.log(`\n== ${name}`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' } })
  if (result.status !== 0) broken = true
  return result.status === 0
}

function count(file) {
  if (!existsSync(file)) return
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests
  failed += report.numFailedTests
}

// `wrangler types --check` reads secret names from .dev.vars (it ignores --env-file), and the
// browser suite needs it anyway: create it from .dev.vars.example first, as npm start does.
const { ensureDevVars } = await import('./dev-server.mjs')
ensureDevVars()
step('wrangler types --check', 'npm', ['run', '--silent', 'types:check'])
step('typecheck', bin('tsc'), ['--noEmit', '-p', '.'])
const workerd = join(reports, 'workerd.json')
step('workerd tests', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${workerd}`])
count(workerd)
const nodeReport = join(reports, 'node.json')
step('node tests (xmllint)', bin('vitest'), ['run', '--config', 'vitest.node.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${nodeReport}`])
count(nodeReport)
if (!process.argv.includes('--no-e2e')) {
  const browser = join(reports, 'browser.json')
  step('browser tests', bin('vitest'), ['run', '--config', 'e2e/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${browser}`])
  count(browser)
}
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(broken || failed > 0 ? 1 : 0)
