import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import wee from '../../../../shared/data/pdq/images/misc-images/wee.jpg?bytes'
import { benchPdq } from './bench-route'

const call = (path: string, init?: RequestInit) => benchPdq.request(`http://api.localhost${path}`, init, env)

it('keeps a posted (optionally rescaled) JPEG and runs each lane on it', async () => {
  expect((await call('/__bench/media-pdq/run/pdq/wee?n=1')).status).toBe(404) // nothing posted yet
  const posted = await call('/__bench/media-pdq/fixture/wee?scale=2', { method: 'POST', body: wee, headers: { 'content-type': 'image/jpeg' } })
  expect(await posted.json()).toMatchObject({ name: 'wee', width: 68, height: 84 })
  for (const lane of ['decode', 'pdq', 'fingerprint']) {
    const res = await call(`/__bench/media-pdq/run/${lane}/wee?n=2`)
    expect(res.status, lane).toBe(200)
    expect(await res.json()).toMatchObject({ n: 2, megapixels: (68 * 84) / 1e6 })
  }
  expect((await call('/__bench/media-pdq/run/nope/wee')).status).toBe(404)
  expect((await call('/__bench/media-pdq/fixture/x?scale=9', { method: 'POST', body: wee })).status).toBe(400)
})
