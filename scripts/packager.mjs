#!/usr/bin/env node
/**
 * The offline packager: polls the API for work: videos get their A/B HLS
 * renditions and keyframes, images above 8 MP a display rendition, made with ffmpeg (Debian's locally,
 * a container in production).
 *
 *   node scripts/packager.mjs --api http://127.0.0.1:8787 --host api.localhost --token <service token> [--once] [--interval 10] [--segment-seconds 2]
 *
 * A service token: `npm run -s token -- --role service`. `--once` packages what is waiting and exits.
 */
import { parseArgs } from 'node:util'
import { client, expectStatus } from './packager/http.mjs'
import { packageJob } from './packager/job.mjs'

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:8787' },
    host: { type: 'string', default: 'api.localhost' },
    token: { type: 'string', default: process.env.PACKAGER_TOKEN },
    once: { type: 'boolean', default: false },
    interval: { type: 'string', default: '10' },
    'segment-seconds': { type: 'string', default: '2' },
  },
})
if (!values.token) {
  console.error('a service token is required: --token or PACKAGER_TOKEN')
  process.exit(2)
}
const api = client({ api: values.api, host: values.host, token: values.token })
const log = (line) => console.log(`[packager] ${line}`)

async function pass() {
  const jobs = expectStatus(await api('GET', '/api/media/packager/jobs?limit=10'), [200], 'list jobs').json().jobs
  let failures = 0
  for (const job of jobs) {
    try {
      await packageJob(api, job, { segmentSeconds: Number(values['segment-seconds']), log })
    } catch (error) {
      failures++
      log(`${job.id} failed: ${error.message}`)
    }
  }
  return { done: jobs.length - failures, failures }
}

if (values.once) {
  const { done, failures } = await pass()
  log(`${done} packaged, ${failures} failed`)
  process.exit(failures ? 1 : 0)
}
for (;;) {
  try {
    await pass()
  } catch (error) {
    log(`poll failed: ${error.message}`)
  }
  await new Promise((r) => setTimeout(r, Number(values.interval) * 1000))
}
