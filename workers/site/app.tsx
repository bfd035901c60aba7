/**
 * The fan-facing brand site, one app for every brand host: the edge has already resolved the brand,
 * the visitor's jurisdiction and any token. Content pages sit behind the age gate; legal pages and
 * /static never do. Errors render as HTML pages here (the API keeps problem+json).
 * @module
 */
import { and, asc, eq } from 'drizzle-orm'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { creators } from '../../d1/schema'
import type { AppEnv } from '../edge/context'
import { createSurfaceApp, notFoundFor, onError } from '../edge/surface'
import { db } from '../lib/db'
import { brandOf } from './brand-page'
import { dmcaPage, privacyPage, statement2257Page, termsPage } from './legal'
import { ageGatePage, blockedPage, creatorPage, errorPage, homePage, notFoundPage } from './pages'
import { serveStatic } from './static'
import { clientRoutes } from '../sso/client/routes'
import { earningsPage, subscribe } from './creator-money'
import { payoutsPage, remittancePage } from './creator-payouts'
import { cancelSubscriptionFromSite, fanSubscriptionsPage } from './fan-subscriptions'
import { creatorMediaPage } from './creator-media'

export const siteApp = createSurfaceApp()

const FEATURED_LIMIT = 12
const HANDLE = /^[a-z0-9_]{1,32}$/

/**
 * Content pages answer differently per visitor (location, session), so no shared cache may keep
 * them, gated or not; blocked visitors get 451 and unverified visitors in a gated place the gate.
 */
const gated = createMiddleware<AppEnv>(async (c, next) => {
  c.header('cache-control', 'private, no-store')
  c.header('vary', 'Cookie')
  const policy = c.var.jurisdiction
  if (policy.blocked) return c.html(blockedPage(c), 451)
  if (policy.gated && c.var.auth?.ageVerified !== true) return c.html(ageGatePage(c))
  await next()
})

/**
 * Legal pages are the same for every visitor, but each carries its own CSP nonce: a shared cache
 * would hand one nonce to everyone, so only the visitor's browser may keep them.
 */
const publicPage = createMiddleware<AppEnv>(async (c, next) => {
  await next()
  if (c.res.ok) c.header('cache-control', 'private, max-age=300')
})

siteApp.get('/static/*', serveStatic)
// sign-in through FanzSSO: /auth/login, /auth/callback, /auth/logout, /auth/backchannel-logout
siteApp.route('/', clientRoutes)

siteApp.get('/', gated, async (c) => {
  const rows = await db(c.env.DB)
    .select({ handle: creators.handle, displayName: creators.displayName, bio: creators.bio })
    .from(creators)
    .where(eq(creators.brandId, brandOf(c).id))
    .orderBy(asc(creators.displayName))
    .limit(FEATURED_LIMIT)
  return c.html(homePage(c, rows))
})

/** The creator `:handle` of this brand, or the visitor's 404 page. */
async function creatorOf(c: Context<AppEnv>): Promise<{ id: string; handle: string; displayName: string; bio: string } | Response> {
  const handle = c.req.param('handle')!.toLowerCase()
  const brand = brandOf(c)
  const creator = HANDLE.test(handle)
    ? await db(c.env.DB)
        .select({ id: creators.id, handle: creators.handle, displayName: creators.displayName, bio: creators.bio })
        .from(creators)
        .where(and(eq(creators.brandId, brand.id), eq(creators.handle, handle)))
        .get()
    : undefined
  return creator ?? c.html(notFoundPage(c, `No creator called @${handle} is on ${brand.name}.`), 404)
}

siteApp.get('/c/:handle', gated, async (c) => {
  const creator = await creatorOf(c)
  return creator instanceof Response ? creator : c.html(creatorPage(c, creator))
})

siteApp.post('/c/:handle/subscribe', gated, async (c) => {
  const creator = await creatorOf(c)
  return creator instanceof Response ? creator : subscribe(c, creator)
})

siteApp.get('/me/earnings', gated, earningsPage)
siteApp.get('/me/payouts', gated, payoutsPage)
siteApp.get('/me/payouts/:payoutId/remittance', gated, remittancePage)
siteApp.get('/me/subscriptions', gated, fanSubscriptionsPage)
siteApp.post('/me/subscriptions/:id/cancel', gated, cancelSubscriptionFromSite)
siteApp.get('/me/media', gated, creatorMediaPage)

siteApp.get('/legal/terms', publicPage, (c) => c.html(termsPage(c)))
siteApp.get('/legal/privacy', publicPage, (c) => c.html(privacyPage(c)))
siteApp.get('/legal/dmca', publicPage, (c) => c.html(dmcaPage(c)))
siteApp.get('/legal/2257', publicPage, (c) => c.html(statement2257Page(c)))

// An unknown page is an HTML 404; other methods keep the shared 405/404 problem answers.
const problemNotFound = notFoundFor(siteApp)
siteApp.notFound((c) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? c.html(notFoundPage(c), 404) : problemNotFound(c)))

siteApp.onError(async (err, c) => {
  // the shared handler logs and classifies; the visitor gets a page instead of JSON
  const problem = await onError(err, c)
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return problem
  return problem.status === 404 ? c.html(notFoundPage(c), 404) : c.html(errorPage(c, problem.status), problem.status as ContentfulStatusCode)
})
