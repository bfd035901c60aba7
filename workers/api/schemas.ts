import { z } from '@hono/zod-openapi'

/** RFC 9457 problem details as this platform sends them. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem')

/** Standard problem responses, spread into a route's `responses`. */
export const problemResponses = (...statuses: Array<400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 460>) =>
  Object.fromEntries(statuses.map((status) => [status, { description: `Problem (${status})`, content: { 'application/problem+json': { schema: Problem } } }])) as Record<
    number,
    { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }
  >

/** A required JSON request body, for `createRoute({ request: { body } })`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } }) as const

/** A JSON response, for `createRoute({ responses })`. */
export const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } }) as const
