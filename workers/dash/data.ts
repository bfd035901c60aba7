/**
 * What the FanzDash overview shows, read straight from D1 (brands, domains, origin pools, origins,
 * open operator cases) and from the audit log's Durable Object (the hash chain's verification).
 * @module
 */
import { asc, desc, eq } from 'drizzle-orm'
import { brands, deadLetters, domains, originPools, origins } from '../../d1/schema'
import type { VerifyResult } from '../../durable-objects/audit-log'
import { auditLog } from '../compliance/audit'
import { db } from '../lib/db'

export interface BrandRow {
  id: string
  name: string
  slug: string
  status: 'active' | 'suspended'
  primaryDomain: string
  domains: Array<{ hostname: string; kind: 'apex' | 'www' | 'alias' }>
}

export interface OriginRow {
  id: string
  url: string
  region: string
  priority: number
  status: 'up' | 'down'
  lastCheckedAtMs: number | null
  lastLatencyMs: number | null
  lastError: string | null
}

export interface PoolRow {
  id: string
  name: string
  brandName: string | null
  pathPrefix: string
  healthPath: string
  origins: OriginRow[]
}

/** The chain's state, or why it could not be checked (the page still renders). */
export type AuditStatus = VerifyResult | { ok: null; error: string }

/** An open operator case: a dead letter, or an alert such as a vault break-glass use. */
export interface CaseRow {
  id: string
  queue: string
  attempts: number
  receivedAtMs: number
}

export interface Overview {
  brands: BrandRow[]
  pools: PoolRow[]
  cases: CaseRow[]
  audit: AuditStatus
}

/** How many open cases the overview lists, newest first. */
export const OVERVIEW_CASES = 20

async function auditStatus(env: Env): Promise<AuditStatus> {
  try {
    return await auditLog(env).verify()
  } catch (err) {
    return { ok: null, error: err instanceof Error ? err.message : String(err) }
  }
}

export async function loadOverview(env: Env): Promise<Overview> {
  const handle = db(env.DB)
  const [[brandRows, domainRows, poolRows, originRows, caseRows], audit] = await Promise.all([
    handle.batch([
      handle.select().from(brands).orderBy(asc(brands.name)),
      handle.select().from(domains).orderBy(asc(domains.hostname)),
      handle.select().from(originPools).orderBy(asc(originPools.name)),
      handle.select().from(origins).orderBy(asc(origins.priority), asc(origins.url)),
      handle.select({ id: deadLetters.id, queue: deadLetters.queue, attempts: deadLetters.attempts, receivedAtMs: deadLetters.receivedAtMs }).from(deadLetters).where(eq(deadLetters.status, 'open')).orderBy(desc(deadLetters.receivedAtMs)).limit(OVERVIEW_CASES),
    ]),
    auditStatus(env),
  ])
  const brandNames = new Map(brandRows.map((b) => [b.id, b.name]))
  return {
    brands: brandRows.map((b) => ({
      id: b.id,
      name: b.name,
      slug: b.slug,
      status: b.status,
      primaryDomain: b.primaryDomain,
      domains: domainRows.filter((d) => d.brandId === b.id).map((d) => ({ hostname: d.hostname, kind: d.kind })),
    })),
    pools: poolRows.map((p) => ({
      id: p.id,
      name: p.name,
      brandName: p.brandId ? (brandNames.get(p.brandId) ?? p.brandId) : null,
      pathPrefix: p.pathPrefix,
      healthPath: p.healthPath,
      origins: originRows
        .filter((o) => o.poolId === p.id)
        .map((o) => ({
          id: o.id,
          url: o.url,
          region: o.region,
          priority: o.priority,
          status: o.status,
          lastCheckedAtMs: o.lastCheckedAtMs,
          lastLatencyMs: o.lastLatencyMs,
          lastError: o.lastError,
        })),
    })),
    cases: caseRows,
    audit,
  }
}
