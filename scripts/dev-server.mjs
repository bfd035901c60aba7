// Starts the platform under `wrangler dev` for npm start, browser tests and benchmarks:
// .dev.vars with fresh secrets if missing, local D1 migrations and seed, then the server, offline.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler')

/** Offline: no remote `cf` lookup (a placeholder location is used), no telemetry. */
export const OFFLINE_ENV = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  CI: process.env.CI ?? 'true',
}

/** A value for an example line: empty -> 32 random bytes; `{random}` placeholders -> 32 random bytes each. */
const fill = (line) => (/^[A-Z_]+=$/.test(line) ? `${line}${randomBytes(32).toString('base64url')}` : line.replaceAll('{random}', () => randomBytes(32).toString('base64url')))

/**
 * Creates .dev.vars from .dev.vars.example with random secrets, once, and adds secrets the example
 * gained since (an older checkout's .dev.vars keeps its values); returns its values.
 */
export function ensureDevVars() {
  const path = join(ROOT, '.dev.vars')
  const example = readFileSync(join(ROOT, '.dev.vars.example'), 'utf8').split('\n')
  if (!existsSync(path)) writeFileSync(path, example.map(fill).join('\n'), { mode: 0o600 })
  const parse = () =>
    Object.fromEntries(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    )
  const present = parse()
  const missing = example.filter((line) => /^[A-Z_]+=/.test(line) && !(line.slice(0, line.indexOf('=')) in present))
  if (missing.length) appendFileSync(path, `\n${missing.map(fill).join('\n')}\n`)
  return parse()
}

function wrangler(args, { quiet = false } = {}) {
  const result = spawnSync(WRANGLER, args, { cwd: ROOT, env: OFFLINE_ENV, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' })
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}\n${result.stderr}\n`)
    throw new Error(`wrangler ${args.join(' ')} failed with ${result.status}`)
  }
}

/** Applies D1 migrations and the demo seed to the local database under `persistTo`. */
export function prepareDatabase({ persistTo, quiet = false }) {
  const persist = persistTo ? ['--persist-to', persistTo] : []
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--env', 'dev', ...persist], { quiet })
  wrangler(['d1', 'execute', 'DB', '--local', '--env', 'dev', '--file', 'd1/seed.sql', ...persist], { quiet })
}

/** GET through the dev server with a chosen Host (Node cannot resolve *.localhost itself). */
export function request(port, host, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    if (body) req.write(body)
    req.end()
  })
}

async function waitUntilUp(port, child, timeoutMs) {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`)
    try {
      const res = await request(port, 'api.localhost', '/api/openapi.json')
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`wrangler dev did not answer on port ${port} within ${timeoutMs} ms`)
}

/**
 * Starts `wrangler dev`; resolves once it serves. `stdio: 'inherit'` for npm start, 'ignore' or a
 * log file for tests. Returns { port, stop }.
 */
export async function startDevServer({ port = 8787, persistTo, stdio = 'inherit', vars = {}, timeoutMs = 60_000 } = {}) {
  ensureDevVars()
  prepareDatabase({ persistTo, quiet: stdio !== 'inherit' })
  const args = ['dev', '--env', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--test-scheduled', '--show-interactive-dev-session=false', '--inspector-port', '0']
  if (persistTo) args.push('--persist-to', persistTo)
  for (const [key, value] of Object.entries(vars)) args.push('--var', `${key}:${value}`)
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: OFFLINE_ENV, stdio, detached: process.platform !== 'win32' })
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        child.kill('SIGTERM')
      }
    })
  try {
    await waitUntilUp(port, child, timeoutMs)
  } catch (err) {
    await stop()
    throw err
  }
  return { port, child, stop }
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = http.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}
