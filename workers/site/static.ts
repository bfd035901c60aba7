/**
 * `/static/*` on the HTML surfaces. Assets are configured with `run_worker_first`, so the Worker
 * (and its security headers) answers first and hands the bytes over from the ASSETS binding.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'

/**
 * First 12 hex digits of the SHA-256 of public/static/site.css. Pages link `?v=<this>`, which lets
 * the file be cached as immutable; static.test.ts fails when the file changes without this.
 */
export const STATIC_VERSION = '4ade7fc200d6'

export const STYLESHEET_HREF = `/static/site.css?v=${STATIC_VERSION}`

export async function serveStatic(c: Context<AppEnv>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(c.req.raw)
  if (asset.status === 404) return c.notFound()
  // the asset response's headers are immutable; the edge middleware still adds its own below
  const res = new Response(asset.body, asset)
  if (asset.ok) {
    const versioned = new URL(c.req.url).searchParams.get('v') === STATIC_VERSION
    res.headers.set('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=3600')
  }
  return res
}
