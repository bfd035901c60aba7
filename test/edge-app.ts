import { Hono } from 'hono'
import { authenticate } from '../workers/edge/auth'
import { withConfig } from '../workers/edge/config'
import type { AppEnv } from '../workers/edge/context'
import { geo } from '../workers/edge/geo'
import { resolveHost } from '../workers/edge/host'
import { jurisdiction } from '../workers/edge/jurisdiction'
import { onError } from '../workers/edge/surface'

/**
 * The real edge middleware in front of a handler that echoes what it learnt, so tests can assert
 * the edge's decisions without depending on any page.
 */
export function edgeEcho() {
  const app = new Hono<AppEnv>()
  app.use(
    withConfig,
    resolveHost,
    geo,
    jurisdiction,
    authenticate,
  )
  app.all('*', (c) =>
    c.json({ surface: c.var.surface, brand: c.var.brand?.slug ?? null, geo: c.var.geo, jurisdiction: c.var.jurisdiction, auth: c.var.auth, authError: c.var.authError ?? null }),
  )
  app.onError(onError)
  return app
}

export type EdgeEcho = {
  surface: string
  brand: string | null
  geo: { country: string | null; region: string | null; source: string }
  jurisdiction: { gated: boolean; blocked: boolean; key: string; methods: string[] }
  auth: { subject: string; roles: string[]; ageVerified: boolean } | null
  authError: string | null
}
