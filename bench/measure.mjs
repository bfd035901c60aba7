// Measuring helpers for bench/run.mjs: an autocannon load run, a sequential per-request latency
// pass with a keep-alive connection, and the small statistics both need.
import autocannon from 'autocannon'
import http from 'node:http'

/**
 * A load run against 127.0.0.1:port with a chosen Host (Node cannot resolve *.localhost, and
 * autocannon keeps an explicit host header). Returns req/s and latency percentiles in ms.
 */
export async function loadRun({ port, target, connections, durationS }) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${target.path}`,
    headers: { host: target.host, ...target.headers },
    connections,
    duration: durationS,
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    // anything but 2xx means we measured an error path, not the target: the run is not valid
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

/** One GET over `agent`, timed from request start to the last body byte, in nanoseconds. */
export function timedGet({ port, agent, target }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const req = http.request({ host: '127.0.0.1', port, path: target.path, agent, headers: { host: target.host, ...target.headers } }, (res) => {
      res.on('data', () => {})
      res.on('end', () => resolve({ ns: Number(process.hrtime.bigint() - started), status: res.statusCode }))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Sequential latencies for several targets: one keep-alive connection per target, requests strictly
 * one at a time, targets interleaved in small blocks so drift (thermal, GC, a neighbour's load) hits
 * every target alike. Returns { [name]: number[] } in microseconds.
 */
export async function sequentialPass({ port, targets, count, block = 50 }) {
  const agents = new Map(targets.map((t) => [t.name, new http.Agent({ keepAlive: true, maxSockets: 1 })]))
  const samples = Object.fromEntries(targets.map((t) => [t.name, []]))
  try {
    for (let done = 0; done < count; done += block) {
      for (const target of targets) {
        const agent = agents.get(target.name)
        for (let i = 0; i < Math.min(block, count - done); i++) {
          const { ns, status } = await timedGet({ port, agent, target })
          if (status !== 200) throw new Error(`${target.name} answered ${status} during the sequential pass`)
          samples[target.name].push(ns / 1000)
        }
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy()
  }
  return samples
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values, p) {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export function mean(values) {
  return values.reduce((sum, v) => sum + v, 0) / values.length
}

/** Right-aligned table for the terminal. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  return rows.map((r) => r.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ')).join('\n')
}

/**
 * Runs one benchmark file on its own (`node bench/<name>.mjs`): its own offline wrangler dev on a
 * free port (never 8787, a developer's `npm start` may hold it), state in a temp dir, log to a file.
 */
export async function standalone(name, benchmark) {
  const { mkdtempSync, openSync, closeSync, rmSync } = await import('node:fs')
  const os = (await import('node:os')).default
  const { join } = await import('node:path')
  const { freePort, OFFLINE_ENV, startDevServer } = await import('../scripts/dev-server.mjs')
  OFFLINE_ENV.WRANGLER_LOG = 'warn'
  const dir = mkdtempSync(join(os.tmpdir(), `fanz-${name}-bench-`))
  const logFd = openSync(join(dir, 'wrangler.log'), 'a')
  let port = await freePort()
  if (port === 8787) port = await freePort()
  const server = await startDevServer({ port, persistTo: join(dir, 'state'), stdio: ['ignore', logFd, logFd], vars: { LOG_LEVEL: 'error' } })
  try {
    process.stdout.write(`FANZ ${name} benchmark: node ${process.version}, ${os.cpus().length} cpu(s), wrangler dev on ${port}, log ${join(dir, 'wrangler.log')}\n`)
    await benchmark(port)
  } catch (err) {
    console.error(`${name} bench failed: ${err.stack ?? err}`)
    process.exitCode = 1
  } finally {
    await server.stop()
    closeSync(logFd)
    rmSync(join(dir, 'state'), { recursive: true, force: true })
  }
}

/** GET a dev-only bench route on the API host: its JSON answer plus the request's wall time (`ns`). */
export function getTimedJson(port, agent, path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host: 'api.localhost' } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) return reject(new Error(`${path} answered ${res.statusCode}: ${body.slice(0, 300)}`))
        resolve({ ns: Number(process.hrtime.bigint() - started), ...JSON.parse(body) })
      })
    })
    req.on('error', reject)
    req.end()
  })
}
