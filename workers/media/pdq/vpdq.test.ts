import { describe, expect, it } from 'vitest'
import chairText from '../../../../shared/data/pdq/video/chair-19-sd-bar.vpdq.txt?raw'
import doorknobText from '../../../../shared/data/pdq/video/doorknob-hd-no-bar.vpdq.txt?raw'
import { compareVideos, medianIntervalMs, parseVpdqText, resampleFrames, videoMatches, type VideoFrameHash } from './vpdq'

const chair = parseVpdqText(chairText)
const doorknob = parseVpdqText(doorknobText)

describe('vPDQ frame-list matching', () => {
  it('parses the reference output: one frame per line with quality and time', () => {
    expect(chair).toHaveLength(564)
    expect(doorknob).toHaveLength(120)
    expect(chair[0]).toEqual({ pdqHex: 'e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c', quality: 100, timeMs: 0 })
    expect(chair[3]!.timeMs).toBe(100)
    expect(() => parseVpdqText('0,100,nothex,0.0')).toThrow(/line 1/)
  })

  it('a video matches itself and a copy keeping every 10th frame, in both directions', () => {
    for (const video of [chair, doorknob]) {
      expect(compareVideos(video, video)).toMatchObject({ match: true, queryMatchPercent: 100, comparedMatchPercent: 100 })
      const sampled = video.filter((_, i) => i % 10 === 0)
      const raw = compareVideos(sampled, video)
      const one = compareVideos(sampled, video, { intervalMs: 'coarser' })
      const other = compareVideos(video, sampled, { intervalMs: 'coarser' })
      console.log(`every 10th of ${video.length} frames vs all: ${raw.comparedMatchPercent.toFixed(1)} % of the full list matched as is, ${one.comparedMatchPercent.toFixed(1)} % on one frame rate; reverse ${other.comparedMatchPercent.toFixed(1)} %`)
      // the copy's own frames all match; frames it dropped match only where the picture holds still
      expect(raw.queryMatchPercent).toBe(100)
      expect(other.match).toBe(true)
      expect(one.match).toBe(true)
      expect(compareVideos(video, sampled).match).toBe(true)
    }
    expect(medianIntervalMs(chair)).toBe(33)
    expect(resampleFrames(chair, 333).slice(0, 3).map((f) => f.timeMs)).toEqual([0, 333, 667])
  })

  it('the two sample videos do not match each other', () => {
    const a = compareVideos(chair, doorknob)
    const b = compareVideos(doorknob, chair)
    expect(compareVideos(chair.filter((_, i) => i % 10 === 0), doorknob, { intervalMs: 'coarser' }).match).toBe(false)
    console.log(`chair vs doorknob: ${a.queryMatchPercent.toFixed(1)} % / ${a.comparedMatchPercent.toFixed(1)} %`)
    expect(a.match).toBe(false)
    expect(b.match).toBe(false)
    expect(a.comparedMatchPercent).toBeLessThan(10)
  })

  it('a clip (the middle third) matches judged from its own side, not as the whole video', () => {
    const clip = chair.slice(188, 376)
    expect(videoMatches(chair, clip)).toBe(true) // every clip frame is in the full video
    const whole = compareVideos(clip, chair)
    expect(whole.match).toBe(false) // two thirds of the full video are not in the clip
    expect(whole.comparedMatchPercent).toBeGreaterThan(30)
  })

  it('frames below the quality floor are left out; no good frames is no match', () => {
    const poor: VideoFrameHash[] = chair.map((f) => ({ ...f, quality: 10 }))
    expect(compareVideos(poor, chair)).toMatchObject({ queryFrames: 0, match: false })
    expect(compareVideos(poor, chair, { quality: 0 }).match).toBe(true)
    // the distance is what decides a frame pair: at distance 0 a re-hashed copy (one bit off per frame) does not match
    const flipped = chair.map((f) => ({ ...f, pdqHex: (parseInt(f.pdqHex[0]!, 16) ^ 1).toString(16) + f.pdqHex.slice(1) }))
    expect(compareVideos(flipped, chair, { distance: 0 }).comparedMatchPercent).toBeLessThan(80)
    expect(compareVideos(flipped, chair, { distance: 1 }).match).toBe(true)
  })
})
