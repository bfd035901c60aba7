/**
 * SHA-256 and MD5 of a file. Bytes already in memory (images, at most MEDIA_MAX_IMAGE_BYTES) are
 * digested with WebCrypto; a video (up to MEDIA_MAX_VIDEO_BYTES, far beyond a Worker's memory) is
 * streamed once from R2 through two `crypto.DigestStream`s (workerd supports MD5 there because
 * StopNCII-style lists carry MD5 for videos).
 * @module
 */
import { bytesToHex as hex } from '@noble/hashes/utils.js'

export interface FileDigests {
  sha256: string
  md5: string
  bytes: number
}

export async function digestBytes(bytes: Uint8Array): Promise<FileDigests> {
  const [sha, md5] = await Promise.all([crypto.subtle.digest('SHA-256', bytes), crypto.subtle.digest('MD5', bytes)])
  return { sha256: hex(new Uint8Array(sha)), md5: hex(new Uint8Array(md5)), bytes: bytes.byteLength }
}

export async function digestStream(body: ReadableStream<Uint8Array>): Promise<FileDigests> {
  const sha = new crypto.DigestStream('SHA-256')
  const md5 = new crypto.DigestStream('MD5')
  let bytes = 0
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
  const [a, b] = body.pipeThrough(counter).tee()
  await Promise.all([a.pipeTo(sha), b.pipeTo(md5)])
  const [s, m] = await Promise.all([sha.digest, md5.digest])
  return { sha256: hex(new Uint8Array(s)), md5: hex(new Uint8Array(m)), bytes }
}
