import { describe, expect, it } from 'vitest'
import { exportKeys, mediaKeys, vaultKeys } from './keys'

describe('r2 key builders', () => {
  it('lay objects out by bucket prefix', () => {
    expect(mediaKeys.original('girlfanz', 'crt_01', 'med_02')).toBe('originals/girlfanz/crt_01/med_02')
    expect(vaultKeys.object('performer_record', 'prf_1', 'vob_9')).toBe('performer_record/prf_1/vob_9')
    expect(exportKeys.auditSegment(Date.parse('2026-03-05T10:00:00Z'), 'seg_1')).toBe('audit/2026/03/seg_1')
  })

  it('refuse parts that could escape their prefix', () => {
    expect(() => mediaKeys.original('girlfanz', '../vault', 'x')).toThrow(/creatorId/)
    expect(() => vaultKeys.object('kyc', 'a/b', 'x')).toThrow(/recordId/)
    expect(() => exportKeys.report('', 'x')).toThrow(/kind/)
  })
})
