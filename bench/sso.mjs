// FanzSSO benchmarks for bench/run.mjs, each against a baseline measured in the same run:
// - access-token verification at the edge: GET /api/edge/whoami with a Bearer token, once with the
//   same token every time (the verified-token cache hit a returning client gets) and once with a
//   new token per request (a full EdDSA verification), against the same request without a token;
// - the brand-to-brand round trip: a visitor signed in at FanzSSO opens a brand they have no session
//   on; the five hops (page -> /auth/login -> sso /authorize -> /auth/callback -> page) are timed
//   end to end, against five bare requests in a row.
import http from 'node:http'
import { ensureDevVars, request } from '../scripts/dev-server.mjs'
import { percentile, timedGet } from './measure.mjs'

const BRANDS = ['boyfanz', 'girlfanz', 'pupfanz', 'transfanz', 'taboofanz']

export async function mintTokens(port, count) {
  const tokens = []
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ roles: ['fan'], age_verified: true, subject: `usr_bench${String(i).padStart(21, '0')}` })
    const res = await request(port, 'api.localhost', '/api/dev/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dev-token-secret': ensureDevVars().DEV_TOKEN_SECRET, 'content-length': Buffer.byteLength(body) },
      body,
    })
    if (res.status !== 201) throw new Error(`token mint refused (${res.status}): ${res.body}`)
    tokens.push(JSON.parse(res.body).access_token)
  }
  return tokens
}

/**
 * Sequential µs latencies, one request of each lane in turn (so drift hits every lane alike), each
 * lane on its own keep-alive connection. `lanes` maps a name to a list of targets used once each.
 */
export async function interleaved({ port, lanes }) {
  const names = Object.keys(lanes)
  const agents = Object.fromEntries(names.map((n) => [n, new http.Agent({ keepAlive: true, maxSockets: 1 })]))
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  const count = Math.min(...names.map((n) => lanes[n].length))
  try {
    for (let i = 0; i < count; i++) {
      for (const name of names) {
        const { ns, status } = await timedGet({ port, agent: agents[name], target: lanes[name][i] })
        if (status !== 200) throw new Error(`${name} answered ${status}`)
        samples[name].push(ns / 1000)
      }
    }
  } finally {
    for (const agent of Object.values(agents)) agent.destroy()
  }
  return samples
}

function cookiesOf(res) {
  const set = res.headers['set-cookie'] ?? []
  return set.map((line) => line.split(';')[0]).filter((pair) => !pair.endsWith('='))
}

/** A FanzSSO account and its signed-in IdP cookie, made through the real API and sign-in page. */
export async function signedInVisitor(port) {
  const email = `bench-${Date.now()}@example.com`
  const password = 'correct horse battery staple bench'
  const body = JSON.stringify({ email, password, display_name: 'Bench' })
  const created = await request(port, 'api.localhost', '/api/sso/accounts', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body })
  if (created.status !== 201) throw new Error(`sign-up refused (${created.status}): ${created.body}`)
  const form = new URLSearchParams({ email, password }).toString()
  // as a browser sends it: Host and Origin with the dev server's port
  const origin = `http://sso.localhost:${port}`
  const signedIn = await request(port, `sso.localhost:${port}`, '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form), origin, 'sec-fetch-site': 'same-origin' },
    body: form,
  })
  const cookie = cookiesOf(signedIn).find((c) => c.startsWith('fanz_sso='))
  if (!cookie) throw new Error(`sign-in set no FanzSSO cookie (${signedIn.status}): ${signedIn.body.slice(0, 300)}`)
  return cookie
}

/** One brand-to-brand round trip, following redirects like a browser; returns µs and the hop count. */
export async function roundTrip(port, agent, ssoCookie, brand) {
  const jars = { 'sso.localhost': [ssoCookie] }
  let url = new URL(`http://${brand}.localhost:${port}/`)
  const started = process.hrtime.bigint()
  for (let hops = 1; hops <= 8; hops++) {
    const host = url.hostname
    const res = await new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: url.pathname + url.search, agent, headers: { host: `${host}:${port}`, 'x-fanz-geo': 'US-CA', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', cookie: (jars[host] ?? []).join('; ') } },
        (r) => {
          r.on('data', () => {})
          r.on('end', () => resolve(r))
        },
      )
      req.on('error', reject)
      req.end()
    })
    jars[host] = [...(jars[host] ?? []).filter((c) => !cookiesOf(res).some((n) => n.split('=')[0] === c.split('=')[0])), ...cookiesOf(res)]
    if (res.statusCode === 200) {
      if (!(jars[`${brand}.localhost`] ?? []).some((c) => c.startsWith('fanz_session='))) throw new Error(`round trip to ${brand} ended without a brand session`)
      return { us: Number(process.hrtime.bigint() - started) / 1000, hops }
    }
    if (![302, 303].includes(res.statusCode)) throw new Error(`hop ${hops} on ${host}${url.pathname} answered ${res.statusCode}`)
    url = new URL(res.headers.location, url)
  }
  throw new Error('round trip did not finish in 8 hops')
}

export async function ssoRoundTrips({ port, count }) {
  const ssoCookie = await signedInVisitor(port)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const bare = { name: 'bare', host: 'boyfanz.localhost', path: '/__bench/bare', headers: {} }
  const trips = []
  const fiveBare = []
  let hops = 0
  try {
    for (let i = 0; i < count; i++) {
      const trip = await roundTrip(port, agent, ssoCookie, BRANDS[i % BRANDS.length])
      trips.push(trip.us)
      hops = trip.hops
      let us = 0
      for (let j = 0; j < trip.hops; j++) us += (await timedGet({ port, agent, target: bare })).ns / 1000
      fiveBare.push(us)
    }
  } finally {
    agent.destroy()
  }
  return { hops, trip: { p50: percentile(trips, 50), p99: percentile(trips, 99) }, bare: { p50: percentile(fiveBare, 50), p99: percentile(fiveBare, 99) } }
}
