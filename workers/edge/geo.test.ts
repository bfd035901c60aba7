import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { edgeEcho, type EdgeEcho } from '../../test/edge-app'
import { cf } from '../../test/helpers'
import { geoFromCf, parseGeoOverride } from './geo'

const echo = edgeEcho()
const ask = async (environment: string, headers: Record<string, string>, location?: IncomingRequestCfProperties) => {
  const res = await echo.request('http://boyfanz.localhost/', { headers: { host: 'boyfanz.localhost', ...headers }, cf: location } as RequestInit, { ...env, ENVIRONMENT: environment })
  return (await res.json()) as EdgeEcho
}

describe('geo context', () => {
  it('reads country, region, continent and ASN from request.cf', () => {
    expect(geoFromCf(cf('US', 'TX', 'NA', 7922))).toEqual({ country: 'US', region: 'TX', continent: 'NA', asn: 7922, isTor: false, source: 'cf' })
    expect(geoFromCf(cf('T1')).isTor).toBe(true)
    expect(geoFromCf(undefined)).toMatchObject({ country: null, source: 'none' })
  })

  it('parses the dev override', () => {
    expect(parseGeoOverride('us-tx')).toMatchObject({ country: 'US', region: 'TX' })
    expect(parseGeoOverride('DE;EU;3320')).toMatchObject({ country: 'DE', continent: 'EU', asn: 3320 })
    expect(parseGeoOverride('none')).toMatchObject({ country: null })
    expect(parseGeoOverride('not a place')).toBeUndefined()
  })

  it('lets a developer pretend to be elsewhere outside production (header or cookie)', async () => {
    expect((await ask('dev', { 'x-fanz-geo': 'US-TX' }, cf('US', 'CA'))).geo).toMatchObject({ country: 'US', region: 'TX', source: 'dev-override' })
    expect((await ask('staging', { cookie: 'fanz_geo=GB' }, cf('US', 'CA'))).geo).toMatchObject({ country: 'GB', region: null })
  })

  it('ignores the override in production', async () => {
    const seen = await ask('production', { 'x-fanz-geo': 'US-CA', cookie: 'fanz_geo=US-CA' }, cf('US', 'TX'))
    expect(seen.geo).toMatchObject({ country: 'US', region: 'TX', source: 'cf' })
    expect(seen.jurisdiction.gated).toBe(true)
  })

  it('gates a visitor the edge could not locate', async () => {
    const seen = await ask('production', {}, {} as IncomingRequestCfProperties)
    expect(seen.geo.country).toBeNull()
    expect(seen.jurisdiction).toMatchObject({ gated: true, key: 'unknown' })
  })

  it('uses the dev default location only in dev', async () => {
    const devDefault = await echo.request('http://boyfanz.localhost/', { headers: { host: 'boyfanz.localhost' }, cf: cf('US', 'TX') } as RequestInit, { ...env, DEV_DEFAULT_GEO: 'US-CA' })
    expect(((await devDefault.json()) as EdgeEcho).geo).toMatchObject({ region: 'CA', source: 'dev-default' })
    const prod = await echo.request('http://boyfanz.localhost/', { headers: { host: 'boyfanz.localhost' }, cf: cf('US', 'TX') } as RequestInit, { ...env, DEV_DEFAULT_GEO: 'US-CA', ENVIRONMENT: 'production' })
    expect(((await prod.json()) as EdgeEcho).geo).toMatchObject({ region: 'TX', source: 'cf' })
  })
})
