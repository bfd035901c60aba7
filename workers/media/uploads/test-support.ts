/**
 * Test helpers for the upload tests: the demo creator's token, file bytes with real magic numbers,
 * tus calls through the whole Worker.
 * @module
 */
import { md5, sha1 } from '@noble/hashes/legacy.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { env } from 'cloudflare:workers'
import { call, fetchWorker, tokenFor } from '../../../test/helpers'

export const API = 'api.localhost'
/** seed: Alex Rivers (creator profile crt_...0101 on BoyFanz) */
export const ALEX_USER = 'usr_01JFANZDEM0000000000000004'
export const ALEX_CREATOR = 'crt_01JFANZ0000000000000000101'
export const MiB = 1024 * 1024

export function creatorToken(subject = ALEX_USER): Promise<string> {
  return tokenFor(['creator'], { subject })
}

/** Deterministic pseudo-random bytes (xorshift), so a file's digest is the same in every run. */
export function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
    out[i + 1] = (x >>> 8) & 0xff
    out[i + 2] = (x >>> 16) & 0xff
    out[i + 3] = (x >>> 24) & 0xff
  }
  return out.subarray(0, length)
}

const FTYP_ISOM = [0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x32]
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]

/** An "MP4" of `length` bytes: an ISO BMFF ftyp box (isom, mp42), then noise. */
export function fakeMp4(length: number, seed = 1): Uint8Array {
  const bytes = noise(length, seed)
  bytes.set(FTYP_ISOM, 0)
  return bytes
}

/** A "JPEG" of `length` bytes: SOI + APP0 marker, then noise (enough for the magic-number check). */
export function fakeJpeg(length: number, seed = 1): Uint8Array {
  const bytes = noise(length, seed)
  bytes.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00], 0)
  return bytes
}

export async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export const b64 = (text: string) => btoa(text)

/**
 * An `Upload-Checksum` value for `bytes` (tus checksum extension), computed with @noble/hashes so
 * the tests do not share the server's hashing code.
 */
export function uploadChecksum(algorithm: 'sha1' | 'md5' | 'sha256', bytes: Uint8Array): string {
  const digest = { sha1, md5, sha256: nobleSha256 }[algorithm](bytes)
  let binary = ''
  for (const byte of digest) binary += String.fromCharCode(byte)
  return `${algorithm} ${btoa(binary)}`
}

export function metadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',')
}

export interface TusOptions {
  token?: string
  headers?: Record<string, string>
  body?: Uint8Array | ReadableStream<Uint8Array>
}

/** A tus request with Tus-Resumable 1.0.0 (unless the test overrides it). */
export function tus(method: string, path: string, options: TusOptions = {}): Promise<Response> {
  const headers = new Headers({ 'tus-resumable': '1.0.0', ...options.headers })
  if (options.body instanceof ReadableStream) {
    headers.set('host', API)
    if (options.token) headers.set('authorization', `Bearer ${options.token}`)
    return fetchWorker(new Request(`http://${API}${path}`, { method, headers, body: options.body, duplex: 'half' } as RequestInit))
  }
  return call(API, path, { method, token: options.token, headers: Object.fromEntries(headers), body: options.body })
}

/** Creates a tus upload and returns its path (the relative Location). */
export async function createTus(token: string, length: number, meta: Record<string, string>): Promise<{ path: string; itemId: string; res: Response }> {
  const res = await tus('POST', '/api/media/uploads/tus', { token, headers: { 'upload-length': String(length), 'upload-metadata': metadata(meta) } })
  if (res.status !== 201) throw new Error(`tus create: ${res.status} ${await res.text()}`)
  return { path: res.headers.get('location')!, itemId: res.headers.get('media-item-id')!, res }
}

/**
 * A PATCH at `offset`. `declaredLength` is the Content-Length a client announces (tus-js-client
 * always sends one): with a breaking stream it is more than will arrive.
 */
export function patch(token: string, path: string, offset: number, body: Uint8Array | ReadableStream<Uint8Array>, declaredLength?: number, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const headers: Record<string, string> = { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...extraHeaders }
  if (declaredLength !== undefined) headers['content-length'] = String(declaredLength)
  return tus('PATCH', path, { token, body, headers })
}

/** A body stream that delivers `bytes` in `chunk`-sized pieces, then fails as a dropped connection does. */
export function breakingStream(bytes: Uint8Array, chunk = 1024 * 1024): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) {
        controller.error(new Error('connection reset by peer'))
        return
      }
      controller.enqueue(bytes.slice(at, at + chunk))
      at += chunk
    },
  })
}

export async function itemRow(itemId: string) {
  return env.DB.prepare('SELECT * FROM media_items WHERE id = ?').bind(itemId).first<Record<string, unknown>>()
}
