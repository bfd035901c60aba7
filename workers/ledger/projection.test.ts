import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newId } from '../lib/ids'
import { projectBalances, readProjection } from './projection'
import { csvField, csvLine } from './statement-csv'

describe('ledger_balances projection', () => {
  it('applies a row only when its ledger sequence is newer, so late writes never go back in time', async () => {
    const creatorId = newId('creator')
    const row = (ledgerSeq: number, postedMinor: number) => ({ currency: 'USD', account: 'creator_available', postedMinor, pendingMinor: 0, ledgerSeq })
    await projectBalances(env.DB, creatorId, [row(5, 500)], 1)
    await projectBalances(env.DB, creatorId, [row(9, 900)], 2)
    await projectBalances(env.DB, creatorId, [row(7, 700)], 3) // arrives late
    await projectBalances(env.DB, creatorId, [row(9, 123)], 4) // same seq: not newer
    expect(await readProjection(env.DB, creatorId)).toEqual([{ creatorId, currency: 'USD', account: 'creator_available', postedMinor: 900, pendingMinor: 0, ledgerSeq: 9, updatedAtMs: 2 }])
  })
})

describe('CSV', () => {
  it('quotes per RFC 4180 and defuses formulas in text', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvField(-720)).toBe('-720')
    expect(csvField(null)).toBe('')
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n')
  })
})
