/**
 * tus resumable uploads with the real client (tus-js-client 4.3.1, Node) against `wrangler dev`:
 * an upload interrupted halfway resumes from the offset the server kept and completes, and the
 * stored item (after ingest) has the file's size and SHA-256; a file whose bytes are not what its
 * type claims is refused with 415.
 */
import { createHash } from 'node:crypto'
import { Upload, type PreviousUpload, type UrlStorage } from 'tus-js-client'
import { describe, expect, it } from 'vitest'
import { request } from '../scripts/dev-server.mjs'
import { mintToken, port } from './browser'

const API_HOST = `api.localhost:${port}`
/** 127.0.0.1 with the API's Host header: Node cannot resolve *.localhost */
const ENDPOINT = `http://127.0.0.1:${port}/api/media/uploads/tus`
const ALEX = 'usr_01JFANZDEM0000000000000004'
const MiB = 1024 * 1024

const creatorToken = (): Promise<string> => mintToken(['creator'], false, ALEX)

/** tus-js-client keeps no URLs in Node by default; the test's memory stands in for a browser's localStorage. */
class MemoryUrlStorage implements UrlStorage {
  readonly #entries = new Map<string, PreviousUpload & { fingerprint: string }>()
  async findAllUploads(): Promise<PreviousUpload[]> {
    return [...this.#entries.values()]
  }
  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return [...this.#entries.values()].filter((e) => e.fingerprint === fingerprint)
  }
  async removeUpload(key: string): Promise<void> {
    this.#entries.delete(key)
  }
  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `tus::${fingerprint}::${this.#entries.size}`
    this.#entries.set(key, { ...upload, fingerprint, urlStorageKey: key } as PreviousUpload & { fingerprint: string })
    return key
  }
}

/** A 12 MiB "MP4": an ISO BMFF ftyp box, then deterministic noise. */
function videoFile(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  let x = 2463534242
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
  }
  Buffer.from([0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x32]).copy(bytes, 0)
  return bytes
}

async function getItem(token: string, itemId: string): Promise<{ status: number; item: { size_bytes: number | null; status: string; mime: string | null; fingerprints: { sha256: string | null } } }> {
  const res = (await request(port, 'api.localhost', `/api/media/items/${itemId}`, { headers: { authorization: `Bearer ${token}` } })) as { status: number; body: string }
  return { status: res.status, item: JSON.parse(res.body) }
}

describe('tus uploads with tus-js-client', () => {
  it('an upload interrupted halfway resumes from the kept offset and completes', async () => {
    const token = await creatorToken()
    const file = videoFile(12 * MiB)
    const storage = new MemoryUrlStorage()
    let itemId: string | undefined
    let resumedFrom: number | undefined
    const common = {
      endpoint: ENDPOINT,
      chunkSize: 5 * MiB,
      headers: { Host: API_HOST, Authorization: `Bearer ${token}` },
      metadata: { filename: 'resume.mp4', filetype: 'video/mp4', title: 'Resumed upload' },
      urlStorage: storage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // 409 (offset moved, or the broken PATCH still being saved) and 5xx are retried after a fresh HEAD
      retryDelays: [0, 300, 1000, 2000, 4000],
    }

    // first attempt: aborted while the second chunk is on the wire; the server keeps whatever of it
    // arrived (on a local socket usually all of it; the workerd tests cut a body mid-way)
    let aborted = false
    await new Promise<void>((resolve, reject) => {
      const upload = new Upload(file, {
        ...common,
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'POST') itemId = res.getHeader('Media-Item-Id')
        },
        onProgress: (sent) => {
          // halfway through the second 5 MiB chunk
          if (sent >= 7.5 * MiB && !aborted) {
            aborted = true
            void upload.abort().then(resolve, reject)
          }
        },
        onSuccess: () => reject(new Error('the first attempt should have been interrupted')),
        onError: reject,
      })
      upload.start()
    })
    expect(itemId).toMatch(/^med_/)

    // second attempt: a new Upload finds the first by fingerprint and resumes
    await new Promise<void>((resolve, reject) => {
      const upload = new Upload(file, {
        ...common,
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'HEAD' && resumedFrom === undefined) resumedFrom = Number(res.getHeader('Upload-Offset'))
        },
        onSuccess: () => resolve(),
        onError: reject,
      })
      void upload.findPreviousUploads().then((previous) => {
        expect(previous.length).toBe(1)
        upload.resumeFromPreviousUpload(previous[0]!)
        upload.start()
      }, reject)
    })
    // figures for the record: where the second attempt picked up
    console.log(`tus resume: file ${file.length} bytes, resumed from offset ${resumedFrom}`)
    expect(resumedFrom).toBeGreaterThanOrEqual(5 * MiB)
    expect(resumedFrom).toBeLessThan(file.length)

    // the stored item: size from the upload, SHA-256 from ingest
    const expected = createHash('sha256').update(file).digest('hex')
    let last: Awaited<ReturnType<typeof getItem>> | undefined
    for (let i = 0; i < 60; i++) {
      last = await getItem(token, itemId!)
      if (last.item.fingerprints?.sha256) break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(last!.status).toBe(200)
    expect(last!.item).toMatchObject({ size_bytes: file.length, mime: 'video/mp4', fingerprints: { sha256: expected } })
  })

  it('a file whose bytes are not what its type claims is refused with 415', async () => {
    const token = await creatorToken()
    const text = Buffer.from('this is a plain text file, not a photograph\n'.repeat(2000))
    const status = await new Promise<number | undefined>((resolve) => {
      const upload = new Upload(text, {
        endpoint: ENDPOINT,
        headers: { Host: API_HOST, Authorization: `Bearer ${token}` },
        metadata: { filename: 'holiday.jpg', filetype: 'image/jpeg' },
        retryDelays: [],
        onSuccess: () => resolve(undefined),
        onError: (err) => resolve((err as { originalResponse?: { getStatus(): number } }).originalResponse?.getStatus()),
      })
      upload.start()
    })
    expect(status).toBe(415)
  })
})
