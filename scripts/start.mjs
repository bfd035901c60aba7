#!/usr/bin/env node
// `npm start`: install what is missing, migrate and seed the local D1, serve every surface on
// http://*.localhost:PORT, and fire the cron triggers on schedule (wrangler dev never does).
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const lock = join(root, 'package-lock.json')
const marker = join(root, 'node_modules', '.package-lock.json')
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log('installing dependencies (npm ci)...')
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const { request, startDevServer } = await import('./dev-server.mjs')
const port = Number(process.env.PORT ?? 8787)
const server = await startDevServer({ port })

const crons = ['* * * * *', '17 * * * *']
const fire = (cron) => request(port, 'api.localhost', `/__scheduled?cron=${encodeURIComponent(cron)}`).catch(() => {})
await Promise.all(crons.map(fire)) // first run creates the signing keys and probes origins at once
setInterval(() => fire(crons[0]), 60_000).unref()
setInterval(() => fire(crons[1]), 3_600_000).unref()

const surfaces = ['boyfanz', 'girlfanz', 'pupfanz', 'transfanz', 'taboofanz', 'sso', 'dash', 'api']
console.log(`\nFANZ is up:\n${surfaces.map((s) => `  http://${s}.localhost:${port}`).join('\n')}\n  API docs: http://api.localhost:${port}/api/docs\n  admin token: npm run token -- --role admin\n`)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.stop().then(() => process.exit(0)))
