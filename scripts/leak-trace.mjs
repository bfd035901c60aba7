#!/usr/bin/env node
/**
 * Traces a leaked copy of an A/B-watermarked video to the viewer it was delivered to.
 *
 *   node scripts/leak-trace.mjs --api http://127.0.0.1:8787 --host api.localhost --token <compliance token> --item med_... \
 *     (--dir <downloaded HLS folder> | --file <leaked .mp4>) [--segment-seconds 2] [--endpoint /api/media/leaks/video] [--no-submit]
 *
 * --dir: a folder of downloaded segments (`*.m4s`, index = the number in the name, or the order;
 *   an `init.mp4` in it is used to decode segments that are not byte-exact copies).
 * --file: a re-muxed or re-encoded file; segment position i is the window [i·s, (i+1)·s).
 * Reference A/B segments and their digests come from the API (`/api/media/hls/{id}/...`,
 * `media:leaks:trace`). The observations are then submitted to the leak endpoint, which names the
 * viewer; the result (and the observations) are printed as JSON.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { client, expectStatus } from './packager/http.mjs'
import { nearestVariant, segmentHalfDifference, sha256, windowHalfDifferences } from './packager/trace.mjs'

/**
 * Observations `{ index, variant: 'a' | 'b' | null, how }` for a leak of `itemId`.
 * @param {ReturnType<typeof client>} api
 */
export async function observeLeak(api, itemId, { dir, file, segmentSeconds = 2 }) {
  const manifest = expectStatus(await api('GET', `/api/media/hls/${itemId}/manifest`), [200], 'manifest').json()
  const referenceInit = expectStatus(await api('GET', `/api/media/hls/${itemId}/init.mp4`), [200], 'init').body
  const pad = (n) => String(n).padStart(5, '0')
  const references = new Map()
  const reference = async (index) => {
    if (!references.has(index)) {
      const [a, b] = await Promise.all(['a', 'b'].map(async (v) => expectStatus(await api('GET', `/api/media/hls/${itemId}/${v}/${pad(index)}.m4s`), [200], `reference ${v}/${index}`).body))
      references.set(index, { a: await segmentHalfDifference(referenceInit, a), b: await segmentHalfDifference(referenceInit, b) })
    }
    return references.get(index)
  }

  const observations = []
  if (dir) {
    const names = (await readdir(dir)).filter((n) => /\.(m4s|mp4|ts)$/.test(n) && n !== 'init.mp4').sort()
    const init = await readFile(join(dir, 'init.mp4')).catch(() => referenceInit)
    for (const [order, name] of names.entries()) {
      const digits = /(\d+)\.\w+$/.exec(name)
      const index = digits ? Number(digits[1]) : order
      const bytes = await readFile(join(dir, name))
      const digest = sha256(bytes)
      if (manifest.a[index] === digest && manifest.b[index] !== digest) observations.push({ index, variant: 'a', how: 'sha256' })
      else if (manifest.b[index] === digest && manifest.a[index] !== digest) observations.push({ index, variant: 'b', how: 'sha256' })
      else if (index < manifest.segments) {
        const ref = await reference(index)
        observations.push({ index, variant: nearestVariant(await segmentHalfDifference(init, bytes), ref.a, ref.b), how: 'frames' })
      }
    }
  } else {
    const measured = await windowHalfDifferences(file, segmentSeconds)
    for (let index = 0; index < Math.min(manifest.segments, measured.length); index++) {
      const ref = await reference(index)
      observations.push({ index, variant: nearestVariant(measured[index] ?? null, ref.a, ref.b), how: 'frames' })
    }
  }
  return observations
}

const isMain = import.meta.url === `file://${process.argv[1]}`
if (isMain) {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: 'http://127.0.0.1:8787' },
      host: { type: 'string', default: 'api.localhost' },
      token: { type: 'string', default: process.env.LEAK_TRACE_TOKEN },
      item: { type: 'string' },
      dir: { type: 'string' },
      file: { type: 'string' },
      'segment-seconds': { type: 'string', default: '2' },
      endpoint: { type: 'string', default: '/api/media/leaks/video' },
      'no-submit': { type: 'boolean', default: false },
    },
  })
  if (!values.token || !values.item || !(values.dir || values.file)) {
    console.error('usage: leak-trace.mjs --token <compliance token> --item med_... (--dir <folder> | --file <video>)')
    process.exit(2)
  }
  const api = client({ api: values.api, host: values.host, token: values.token })
  const observations = await observeLeak(api, values.item, { dir: values.dir, file: values.file, segmentSeconds: Number(values['segment-seconds']) })
  const out = { item_id: values.item, observations }
  if (!values['no-submit']) {
    // the leak endpoint reads one character per segment position: 0 = variant A, 1 = B, ? = not observed
    const length = observations.reduce((max, o) => Math.max(max, o.index + 1), 0)
    const bits = Array.from({ length }, () => '?')
    for (const { index, variant } of observations) if (variant) bits[index] = variant === 'a' ? '0' : '1'
    const res = await api('POST', values.endpoint, { body: { item_id: values.item, bits: bits.join('') } })
    out.status = res.status
    out.result = res.headers['content-type']?.includes('json') ? res.json() : res.body.toString()
  }
  console.log(JSON.stringify(out, null, 2))
}
