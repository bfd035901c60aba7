/**
 * Visitor location from `request.cf`. Outside production a developer can pretend to be elsewhere
 * with the `x-fanz-geo` header (or `fanz_geo` cookie), e.g. `US-TX`, `GB`, `T1`, `none`; production
 * ignores both, so a client can never talk its way out of a gate.
 * @module
 */
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { AppEnv, Geo } from './context'

export const GEO_OVERRIDE_HEADER = 'x-fanz-geo'
export const GEO_OVERRIDE_COOKIE = 'fanz_geo'

/** Parses `CC`, `CC-RR`, optionally `;continent;asn` (e.g. `DE;EU;3320`), or `none`. */
export function parseGeoOverride(value: string): Geo | undefined {
  const [place = '', continent, asn] = value.trim().split(';')
  if (place.toLowerCase() === 'none') return { country: null, region: null, continent: null, asn: null, isTor: false, source: 'dev-override' }
  const match = /^([A-Z][A-Z0-9])(?:-([A-Z0-9]{1,3}))?$/.exec(place.toUpperCase())
  if (!match) return undefined
  const country = match[1] ?? null
  return {
    country,
    region: match[2] ?? null,
    continent: continent ? continent.toUpperCase() : null,
    asn: asn && /^\d+$/.test(asn) ? Number(asn) : null,
    isTor: country === 'T1',
    source: 'dev-override',
  }
}

export function geoFromCf(cf: IncomingRequestCfProperties | undefined): Geo {
  const country = typeof cf?.country === 'string' && cf.country ? cf.country.toUpperCase() : null
  return {
    country,
    region: typeof cf?.regionCode === 'string' && cf.regionCode ? cf.regionCode.toUpperCase() : null,
    continent: typeof cf?.continent === 'string' ? cf.continent : null,
    asn: typeof cf?.asn === 'number' ? cf.asn : null,
    isTor: country === 'T1',
    source: country ? 'cf' : 'none',
  }
}

export const geo = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.var.config
  let result: Geo | undefined
  if (!config.isProduction) {
    const override = c.req.header(GEO_OVERRIDE_HEADER) ?? getCookie(c, GEO_OVERRIDE_COOKIE)
    if (override) result = parseGeoOverride(override)
  }
  if (!result) {
    // Offline `wrangler dev` gives every request the same placeholder location (Austin, TX); a
    // configured dev default replaces it so local pages behave like an ungated place unless the
    // developer overrides it. Only set in the dev environment (see getConfig).
    const fallback = config.devDefaultGeo ? parseGeoOverride(config.devDefaultGeo) : undefined
    result = fallback ? { ...fallback, source: 'dev-default' } : geoFromCf(c.req.raw.cf as IncomingRequestCfProperties | undefined)
  }
  c.set('geo', result)
  await next()
})
