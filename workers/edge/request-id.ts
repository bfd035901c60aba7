import { requestId as honoRequestId } from 'hono/request-id'
import { newId } from '../lib/ids'

/**
 * `X-Request-Id` on every response: a caller-supplied id is kept when it is short and plain (so a
 * trace can cross services), otherwise a fresh `req_` id is minted.
 */
export const requestId = honoRequestId({
  headerName: 'X-Request-Id',
  limitLength: 64,
  generator: () => newId('request'),
})
