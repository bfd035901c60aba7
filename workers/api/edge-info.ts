/**
 * `/api/edge/whoami`: what the edge middleware learnt about this request (request id, brand from
 * the Host, country, age gate, verified token). Cheap on purpose: it reads only what the edge chain
 * already computed, so the benchmark (bench/) measures the chain and not a handler, and a developer
 * can see at a glance why a host, a location or a token is treated the way it is.
 * @module
 */
import { json } from './schemas'
import { createRoute, z } from '@hono/zod-openapi'
import { createSurfaceApp } from '../edge/surface'
import { PUBLIC, withAccess } from '../sso/roles/access'

export const edgeInfoApi = createSurfaceApp()

const WhoAmI = z
  .object({
    request_id: z.string().openapi({ description: 'also sent as `X-Request-Id`' }),
    brand: z.string().nullable().openapi({ description: 'brand slug resolved from the Host; null on platform hosts' }),
    country: z.string().nullable().openapi({ description: 'ISO 3166-1 alpha-2 country the edge placed the caller in' }),
    gated: z.boolean().openapi({ description: 'the jurisdiction requires age verification here' }),
    subject: z.string().nullable().openapi({ description: 'subject of a verified access token; null when none (or an invalid one) was presented' }),
    roles: z.array(z.string()),
  })
  .openapi('WhoAmI')

edgeInfoApi.openapi(
  createRoute(withAccess(PUBLIC, {
    method: 'get',
    path: '/whoami',
    tags: ['edge'],
    summary: 'What the edge knows about this request: brand, country, age gate and caller',
    // a token is optional: without one the answer simply has no subject
    security: [{}, { bearer: [] }],
    responses: {
      200: json('The edge context of this request', WhoAmI),
    },
  })),
  (c) => {
    const auth = c.var.auth
    // never cached: the answer depends on the caller's token and location
    c.header('cache-control', 'no-store')
    return c.json(
      {
        request_id: c.var.requestId,
        brand: c.var.brand?.slug ?? null,
        country: c.var.geo.country,
        gated: c.var.jurisdiction.gated,
        subject: auth?.subject ?? null,
        roles: auth?.roles ?? [],
      },
      200,
    )
  },
)
