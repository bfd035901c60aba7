/**
 * Zod schemas shared by the routing API: the input building blocks (hostname, colour, country, ...)
 * and the snake_case response shapes that appear in the OpenAPI document.
 * @module
 */
import { z } from '@hono/zod-openapi'

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOSTNAME_RE = new RegExp(`^(?:${LABEL}\\.)+${LABEL}$`)

/** A DNS hostname, lower-cased: no scheme, port, path or trailing dot; not an IP address. */
export const Hostname = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(HOSTNAME_RE, 'must be a hostname like example.com (letters, digits, hyphens; no scheme, port or path)')
  .refine((h) => !/^\d+$/.test(h.slice(h.lastIndexOf('.') + 1)), 'IP addresses are not hostnames')
  .openapi({ example: 'girlfanz.com' })

export const Colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour')

export const ThemeInput = z
  .object({ primary: Colour, accent: Colour, background: Colour, text: Colour })
  .strict()
  .openapi('BrandTheme', { description: 'Checked on write: text on background and a label on primary must reach WCAG 2.1 AA (4.5:1)' })

/** ISO 3166-1 alpha-2 (also `T1` Tor and `XX` unknown, as Cloudflare reports them), upper-cased. */
export const Country = z.string().trim().toUpperCase().regex(/^[A-Z][A-Z0-9]$/, 'must be an ISO 3166-1 alpha-2 code')
/** ISO 3166-2 subdivision suffix, e.g. `TX`. */
export const Region = z.string().trim().toUpperCase().regex(/^[A-Z0-9]{1,3}$/, 'must be an ISO 3166-2 subdivision suffix like TX')

export const CONTINENTS = ['NA', 'EU', 'AS', 'SA', 'AF', 'OC', 'AN', '*'] as const
export const Continent = z.enum(CONTINENTS)

/** A URL path prefix: starts with `/`, no query or fragment. */
export const PathPrefix = z.string().max(256).regex(/^\/[^?#\s]*$/, 'must start with / and hold no query, fragment or spaces')

export const IdParam = z.object({ id: z.string().min(1).max(64) })

export const iso = (ms: number): string => new Date(ms).toISOString()
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

/** `{ items, next_cursor }` for any item schema. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() })
}

export const DomainSchema = z
  .object({
    hostname: z.string(),
    brand_id: z.string(),
    kind: z.enum(['apex', 'www', 'alias']),
    created_at: z.iso.datetime(),
  })
  .openapi('Domain')

export const BrandSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    primary_domain: z.string(),
    status: z.enum(['active', 'suspended']),
    tagline: z.string(),
    theme: z.object({ primary: z.string(), accent: z.string(), background: z.string(), text: z.string() }),
    custodian: z.record(z.string(), z.string()),
    dmca_agent: z.record(z.string(), z.string()),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Brand')

export const GeoRuleSchema = z
  .object({
    id: z.string(),
    brand_id: z.string().nullable(),
    country: z.string(),
    region: z.string().nullable(),
    action: z.enum(['route', 'block', 'age_gate']),
    pool_id: z.string().nullable(),
    note: z.string(),
    created_at: z.iso.datetime(),
  })
  .openapi('GeoRule')

export const OriginSchema = z
  .object({
    id: z.string(),
    pool_id: z.string(),
    url: z.string(),
    region: z.string(),
    priority: z.number().int(),
    status: z.enum(['up', 'down']),
    consecutive_failures: z.number().int(),
    consecutive_successes: z.number().int(),
    last_checked_at: z.iso.datetime().nullable(),
    last_latency_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('Origin')

export const PoolSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    brand_id: z.string().nullable(),
    path_prefix: z.string(),
    health_path: z.string(),
    expected_status: z.number().int(),
    fail_threshold: z.number().int(),
    ok_threshold: z.number().int(),
    timeout_ms: z.number().int(),
    origins: z.array(OriginSchema),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('OriginPool')

export const HealthCheckSchema = z
  .object({
    id: z.string(),
    origin_id: z.string(),
    checked_at: z.iso.datetime(),
    ok: z.boolean(),
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int().nullable(),
    error: z.string().nullable(),
    transition: z.enum(['up', 'down']).nullable(),
  })
  .openapi('OriginHealthCheck')
