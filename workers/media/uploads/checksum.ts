/**
 * The tus Checksum extension's header and digests: `Upload-Checksum: <algorithm> <base64 digest>`
 * names the digest of one request's body; the server advertises what it can compute in
 * `Tus-Checksum-Algorithm`.
 *
 * Digests are computed with workerd's `crypto.DigestStream` (native, incremental, the same the
 * ingest consumer uses for SHA-256/MD5 of whole videos) rather than a JavaScript hash: a PATCH may
 * be hundreds of MiB, and every byte of it is hashed inside the request's CPU budget.
 * @module
 */
import { ProblemError } from '../../edge/problem'

/** tus names (lower case, as the spec requires) -> the WebCrypto name and the digest length in bytes. sha1 is mandatory. */
const ALGORITHMS = {
  sha1: { webCrypto: 'SHA-1', bytes: 20 },
  md5: { webCrypto: 'MD5', bytes: 16 },
  sha256: { webCrypto: 'SHA-256', bytes: 32 },
} as const

export type ChecksumAlgorithm = keyof typeof ALGORITHMS

/** `Tus-Checksum-Algorithm` in OPTIONS. */
export const TUS_CHECKSUM_ALGORITHMS = Object.keys(ALGORITHMS).join(',')

export interface UploadChecksum {
  algorithm: ChecksumAlgorithm
  /** the digest the client announced */
  expected: Uint8Array
}

const invalid = (message: string) => new ProblemError('BAD_REQUEST', { detail: `Upload-Checksum: ${message}`, errors: [{ path: 'header.upload-checksum', message }] })

/** Parses `Upload-Checksum`; undefined when absent, 400 when malformed or the algorithm is not one we compute. */
export function parseUploadChecksum(raw: string | undefined): UploadChecksum | undefined {
  if (raw === undefined) return undefined
  const match = /^([A-Za-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(raw.trim())
  if (!match) throw invalid('must be "<algorithm> <base64 digest>", e.g. "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="')
  // tus names are lower case: `SHA1` is a name we do not know, answered as such
  const name = match[1]!
  if (!Object.hasOwn(ALGORITHMS, name)) throw invalid(`algorithm ${name} is not supported; use one of ${TUS_CHECKSUM_ALGORITHMS}`)
  const algorithm = name as ChecksumAlgorithm
  let expected: Uint8Array
  try {
    expected = Uint8Array.from(atob(match[2]!), (ch) => ch.charCodeAt(0))
  } catch {
    throw invalid('the digest is not base64')
  }
  if (expected.byteLength !== ALGORITHMS[algorithm].bytes) throw invalid(`a ${algorithm} digest is ${ALGORITHMS[algorithm].bytes} bytes, not ${expected.byteLength}`)
  return { algorithm, expected }
}

/** An incremental digest of a request body, fed chunk by chunk as the body streams through. */
export class BodyDigest {
  readonly #stream: DigestStream
  readonly #writer: WritableStreamDefaultWriter<ArrayBufferView>
  readonly #checksum: UploadChecksum

  constructor(checksum: UploadChecksum) {
    this.#checksum = checksum
    this.#stream = new crypto.DigestStream(ALGORITHMS[checksum.algorithm].webCrypto)
    // an abandoned digest rejects; nobody waits for it then
    this.#stream.digest.catch(() => undefined)
    this.#writer = this.#stream.getWriter()
  }

  get algorithm(): ChecksumAlgorithm {
    return this.#checksum.algorithm
  }

  async update(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength > 0) await this.#writer.write(chunk)
  }

  /** Whether the bytes fed so far have the announced digest (ends the digest). */
  async matches(): Promise<boolean> {
    await this.#writer.close()
    const actual = new Uint8Array(await this.#stream.digest)
    const expected = this.#checksum.expected
    if (actual.byteLength !== expected.byteLength) return false
    let diff = 0
    for (let i = 0; i < actual.byteLength; i++) diff |= actual[i]! ^ expected[i]!
    return diff === 0
  }

  /** The body will not be verified (it broke or was refused). */
  abandon(): void {
    this.#writer.abort().catch(() => undefined)
  }
}

/** The body's digest is not the one in `Upload-Checksum`: nothing of it was appended (answered 460). */
export class ChecksumMismatch extends Error {
  constructor(
    readonly algorithm: ChecksumAlgorithm,
    /** the upload's offset, unchanged */
    readonly offset: number,
  ) {
    super(`the body's ${algorithm} digest is not the one in Upload-Checksum`)
    this.name = 'ChecksumMismatch'
  }
}
