/**
 * Test-only helpers for the routing tests (imported by *.test.ts only, never by the Worker): tokens,
 * request bodies, audit lookups, and a stand-in for external origins behind `globalThis.fetch`.
 * @module
 */
import { expect } from 'vitest'
import { call, tokenFor, type CallOptions } from '../../test/helpers'

export const API = 'api.localhost'

/** one admin token per test file: each file starts from a fresh database, signing keys included */
let adminToken: { file: string | undefined; token: string } | undefined
export async function admin(): Promise<string> {
  const file = expect.getState().testPath
  if (!adminToken || adminToken.file !== file) adminToken = { file, token: await tokenFor(['admin']) }
  return adminToken.token
}

/** Calls the routing API as admin. */
export async function api(path: string, options: CallOptions = {}): Promise<Response> {
  return call(API, `/api/routing${path}`, { token: await admin(), ...options })
}

export async function body<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T
}

export interface ProblemBody {
  status: number
  code: string
  detail?: string
  errors?: Array<{ path: string; message: string }>
}

let counter = 0
/** A fresh slug per call, so tests never collide on unique columns. */
export function uniqueSlug(prefix = 'brand'): string {
  counter += 1
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`
}

export function brandBody(slug: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    slug,
    name: `Brand ${slug}`,
    primary_domain: `${slug}.localhost`,
    tagline: 'test brand',
    theme: { primary: '#1d4ed8', accent: '#b45309', background: '#ffffff', text: '#0f172a' },
    custodian: { name: 'Custodian', title: 'Records Custodian', address: '1 Main St', email: `custodian@${slug}.example` },
    dmca_agent: { name: 'Agent', address: '1 Main St', email: `dmca@${slug}.example`, phone: '+1-555-0100', registration: 'DMCA-1' },
    ...overrides,
  }
}

export async function createBrand(slug = uniqueSlug()): Promise<{ id: string; slug: string; host: string }> {
  const res = await api('/brands', { body: brandBody(slug) })
  if (res.status !== 201) throw new Error(`brand create failed: ${res.status} ${await res.text()}`)
  const created = await body<{ id: string }>(res)
  return { id: created.id, slug, host: `${slug}.localhost` }
}

export interface AuditRow {
  action: string
  subject: string
  actor: string
  details: Record<string, unknown>
}

export async function auditEntries(action: string, subject?: string): Promise<AuditRow[]> {
  const query = new URLSearchParams({ action, limit: '200', ...(subject ? { subject } : {}) })
  const res = await call(API, `/api/compliance/audit?${query}`, { token: await admin() })
  if (res.status !== 200) throw new Error(`audit read failed: ${res.status}`)
  return (await body<{ items: AuditRow[] }>(res)).items
}

type Handler = (request: Request) => Response | Promise<Response>

/**
 * External origins for the tests: requests to a registered host are answered by its handler and
 * logged; anything else goes to the real fetch. Install once per file, uninstall after it.
 */
export class OriginStub {
  readonly calls: Array<{ host: string; method: string; path: string; headers: Headers }> = []
  readonly #handlers = new Map<string, Handler>()
  #original: typeof fetch | undefined

  install(): this {
    this.#original = globalThis.fetch
    const original = this.#original
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      const url = new URL(request.url)
      const handler = this.#handlers.get(url.host)
      if (!handler) return original(input, init)
      this.calls.push({ host: url.host, method: request.method, path: `${url.pathname}${url.search}`, headers: request.headers })
      return handler(request)
    }) as typeof fetch
    return this
  }

  uninstall(): void {
    if (this.#original) globalThis.fetch = this.#original
  }

  on(host: string, handler: Handler): void {
    this.#handlers.set(host, handler)
  }

  /** Calls to `host` that were not health probes. */
  traffic(host: string, healthPath = '/healthz'): Array<{ method: string; path: string; headers: Headers }> {
    return this.calls.filter((c) => c.host === host && c.path !== healthPath)
  }

  reset(): void {
    this.calls.length = 0
  }
}
