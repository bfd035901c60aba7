/**
 * A small HTTP client for the packager and the leak tracer. Node's `fetch` cannot reach
 * `*.localhost` hosts (no resolver) and ignores a Host override, so requests go to the `--api`
 * address with the surface's name in the `host` header (`http.request`).
 * @module
 */
import http from 'node:http'
import https from 'node:https'

/**
 * @param {{ api: string, host?: string, token?: string }} target
 * @returns {(method: string, path: string, options?: { body?: Buffer | string | object, headers?: Record<string, string> }) => Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: Buffer, json: () => any }>}
 */
export function client({ api, host, token }) {
  const base = new URL(api)
  const lib = base.protocol === 'https:' ? https : http
  return (method, path, { body, headers = {} } = {}) =>
    new Promise((resolve, reject) => {
      let payload
      const h = { ...headers }
      if (host) h.host = host
      if (token) h.authorization = `Bearer ${token}`
      if (body !== undefined) {
        if (Buffer.isBuffer(body) || body instanceof Uint8Array || typeof body === 'string') payload = Buffer.from(body)
        else {
          payload = Buffer.from(JSON.stringify(body))
          h['content-type'] ??= 'application/json'
        }
        h['content-length'] = String(payload.length)
      }
      const req = lib.request({ protocol: base.protocol, hostname: base.hostname, port: base.port, method, path, headers: h }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const data = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, json: () => JSON.parse(data.toString()) })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(payload)
    })
}

/** Throws with the problem detail unless the status is one of `ok`. */
export function expectStatus(res, ok, what) {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.body.toString().slice(0, 500)}`)
  return res
}
