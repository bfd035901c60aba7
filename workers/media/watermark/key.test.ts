/**
 * The mark's secret: the slot layout comes from MEDIA_MARK_KEY, so a copy marked under one key
 * yields no serial under another, and a deployment without a proper key refuses to mark at all.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import bridge from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import q1050 from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg?bytes'
import { markLayout } from './key'
import { markImageCopy, traceImage } from './mark-image'

const OTHER_KEY = 'another-deployment-media-mark-key-0123456789'

describe('MEDIA_MARK_KEY', () => {
  it('the same key gives the same layout; another key another one', async () => {
    const ours = await markLayout(env)
    const again = await markLayout({ MEDIA_MARK_KEY: env.MEDIA_MARK_KEY })
    const other = await markLayout({ MEDIA_MARK_KEY: OTHER_KEY })
    expect(again).toBe(ours)
    expect([...other.bitOf]).not.toEqual([...ours.bitOf])
    expect([...other.dither]).not.toEqual([...ours.dither])
    // every one of the 48 payload bits is spread over 6 or 7 of the 320 slots
    const perBit = new Map<number, number>()
    for (const bit of ours.bitOf) perBit.set(bit, (perBit.get(bit) ?? 0) + 1)
    expect(perBit.size).toBe(48)
    expect(Math.min(...perBit.values())).toBe(6)
    expect(Math.max(...perBit.values())).toBe(7)
    for (const d of ours.dither) expect(d >= 0 && d < 32).toBe(true)
  })

  it('a copy marked under one key is traced under it and yields nothing under another', async () => {
    const ours = await markLayout(env)
    const other = await markLayout({ MEDIA_MARK_KEY: OTHER_KEY })
    for (const [bytes, serial] of [
      [bridge, 0x5eed1e55],
      [q1050, 31337],
    ] as const) {
      const copy = await markImageCopy(bytes, 'image/jpeg', { serial, visible: null }, ours)
      expect((await traceImage(copy, 'image/jpeg', ours))?.serial).toBe(serial)
      expect(await traceImage(copy, 'image/jpeg', other)).toBeNull()
    }
  })

  it('refuses a missing or short key instead of marking with a guessable one', () => {
    expect(() => markLayout({ MEDIA_MARK_KEY: '' })).toThrow(/MEDIA_MARK_KEY/)
    expect(() => markLayout({ MEDIA_MARK_KEY: 'short' })).toThrow(/at least 32/)
    expect(() => markLayout({} as { MEDIA_MARK_KEY: string })).toThrow(/MEDIA_MARK_KEY/)
  })
})
