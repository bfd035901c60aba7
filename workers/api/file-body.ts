/**
 * A file sent to an upload route either as the raw request body or as the multipart part `file`
 * (what a browser form and `curl -F file=@...` send). Used by the vault's document upload and the
 * leak-tracing image route.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { ProblemError } from '../edge/problem'

/** What multipart framing may add around a file of the largest accepted size. */
const MULTIPART_FRAMING_BYTES = 64 * 1024

export interface FileBody {
  bytes: Uint8Array
  /** the media type the sender gave: the part's type, or the body's Content-Type */
  declaredType: string
  /** where the bytes came from, for problems naming the field: `body.file` or `body` */
  field: 'body.file' | 'body'
}

/** Reads the file; 413 when Content-Length already says more than `max` (+ framing), before reading. */
export async function readFileBody(c: Context<AppEnv>, max: number, what: string): Promise<FileBody> {
  if (Number(c.req.header('content-length') ?? 0) > max + MULTIPART_FRAMING_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `${what} is at most ${max} bytes` })
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'multipart/form-data') return { bytes: new Uint8Array(await c.req.raw.arrayBuffer()), declaredType: type, field: 'body' }
  let form: FormData
  try {
    form = await c.req.raw.formData()
  } catch {
    throw new ProblemError('MALFORMED_BODY', { detail: 'the multipart body does not parse' })
  }
  const file = form.get('file')
  if (!(file instanceof File)) throw new ProblemError('VALIDATION_FAILED', { detail: `send ${what} as the part \`file\``, errors: [{ path: 'body.file', message: 'is required (a file part)' }] })
  return { bytes: new Uint8Array(await file.arrayBuffer()), declaredType: file.type, field: 'body.file' }
}
