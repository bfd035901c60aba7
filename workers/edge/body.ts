import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from './context'
import { ProblemError } from './problem'

/**
 * `c.req.parseBody()` for handlers that read a form themselves (zod-openapi routes validate their
 * own). The runtime rejects a broken multipart body with a bare TypeError, indistinguishable from a
 * bug; here it becomes the client's 400 MALFORMED_BODY.
 */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody()
  } catch (err) {
    if (err instanceof HTTPException) throw err
    throw new ProblemError('MALFORMED_BODY', { detail: 'the request body could not be parsed', cause: err })
  }
}
