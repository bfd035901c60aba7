/**
 * The packager's ffmpeg run and the tracer's frame comparison on a real video (Meta's vPDQ sample
 * `chair-19-sd-bar.mp4`, 18.8 s): A and B renditions line up, B is invisible to the eye but
 * readable after a leaker re-encodes and halves the resolution, and the variant sequence read
 * from such a leak names the viewer it was built for.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attribute, variantAt, type Observation } from '../../workers/media/ab/pattern'
import { abArgs, run } from './ffmpeg.mjs'
import { nearestVariant, segmentHalfDifference, sha256, windowHalfDifferences } from './trace.mjs'

const VIDEO = fileURLToPath(new URL('../../../shared/data/pdq/video/chair-19-sd-bar.mp4', import.meta.url))
let work: string
let init: Buffer
const a: Buffer[] = []
const b: Buffer[] = []
const reference: { a: number | null; b: number | null }[] = []

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ab-node-'))
  for (const d of ['a', 'b', 'frames']) await mkdir(join(work, d))
  await run('ffmpeg', abArgs(VIDEO, work, { preset: 'ultrafast' }))
  init = await readFile(join(work, 'a', 'init.mp4'))
  for (const name of (await readdir(join(work, 'a'))).filter((n) => n.endsWith('.m4s')).sort()) {
    a.push(await readFile(join(work, 'a', name)))
    b.push(await readFile(join(work, 'b', name)))
  }
  for (let i = 0; i < a.length; i++) reference.push({ a: await segmentHalfDifference(init, a[i]!), b: await segmentHalfDifference(init, b[i]!) })
}, 120_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

/** The file a viewer with `serial` would get by saving their stream: init + their variant of each segment. */
const stream = (serial: number) => Buffer.concat([init, ...a.map((_, i) => (variantAt(serial, i) === 'b' ? b[i]! : a[i]!))])

describe('packager ffmpeg run on chair-19-sd-bar.mp4', () => {
  it('makes A and B renditions that share playlist and init segment, and 1 fps keyframes', async () => {
    expect(a.length).toBe(10) // 18.8 s in 2 s segments
    expect(await readFile(join(work, 'a', 'playlist.m3u8'), 'utf8')).toBe(await readFile(join(work, 'b', 'playlist.m3u8'), 'utf8'))
    expect(sha256(await readFile(join(work, 'b', 'init.mp4')))).toBe(sha256(init))
    for (let i = 0; i < a.length; i++) expect(sha256(a[i]!)).not.toBe(sha256(b[i]!))
    const frames = (await readdir(join(work, 'frames'))).filter((n) => n.endsWith('.jpg'))
    expect(frames.length).toBeGreaterThanOrEqual(18)
    expect((await readFile(join(work, 'frames', frames[0]!))).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
  })

  it('B differs from A by a few luma levels only, in opposite directions on the two halves', () => {
    for (const r of reference) {
      // +2 left and -2 right in limited-range luma: about 4.6 full-range levels apart
      expect(r.b! - r.a!).toBeGreaterThan(3)
      expect(r.b! - r.a!).toBeLessThan(6)
    }
  })
})

describe('tracing re-encoded leaks of chair-19-sd-bar.mp4', () => {
  const viewers = [101, 102, 103, 104, 105, 106, 107, 108]

  async function observe(file: string): Promise<Observation[]> {
    const measured = await windowHalfDifferences(file, 2)
    return measured.slice(0, a.length).map((m, index) => ({ index, variant: nearestVariant(m, reference[index]!.a, reference[index]!.b) }))
  }

  it('reads every segment of a copy re-encoded at CRF 30 and halved in size, and names its viewer', async () => {
    const serial = 105
    const saved = join(work, 'saved.mp4')
    await writeFile(saved, stream(serial))
    const leak = join(work, 'leak-small.mp4')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', saved, '-vf', 'scale=iw/2:ih/2', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-an', leak])
    const observations = await observe(leak)
    expect(observations.map((o) => o.variant).join('')).toBe(Array.from({ length: 10 }, (_, i) => variantAt(serial, i)).join(''))
    const result = attribute(observations, viewers)!
    expect(result).toMatchObject({ serial, distance: 0, observed: 10 })
    expect(result.margin).toBeGreaterThanOrEqual(2)
  }, 60_000)

  it('a brighter copy of another viewer still reads as that viewer', async () => {
    const serial = 102
    const saved = join(work, 'saved-102.mp4')
    await writeFile(saved, stream(serial))
    const leak = join(work, 'leak-bright.mp4')
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-i', saved, '-vf', 'eq=brightness=0.06', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26', '-an', leak])
    const result = attribute(await observe(leak), viewers)!
    expect(result).toMatchObject({ serial, distance: 0 })
  }, 60_000)
})
