import { describe, expect, it } from 'vitest'
import { addMonths, atLeastBps, monthOf, standing, vampThreshold, type CountsByMonth, type MonthCounts } from './thresholds'

const exact = { marginBps: 0, floorMarginPct: 0 }

function visa(month: string, settled: number, count: number, region: 'global' | 'mena' = 'global', usdMinor = 10_000_000) {
  const counts: CountsByMonth = { [month]: { visaSettled: settled, visaVampDisputes: count - Math.floor(count / 3), visaVampFraudReports: Math.floor(count / 3), visaVampUsdMinor: usdMinor } }
  return standing(counts, month, region, exact).visa
}

/** Mastercard: `prevSales` in the month before `month`, `chargebacks` in `month`. */
function mc(prevSales: number, chargebacks: number, extra: Partial<MonthCounts> = {}, prevExtra: Partial<MonthCounts> = {}) {
  const counts: CountsByMonth = { '2026-01': { mcSales: prevSales, ...prevExtra }, '2026-02': { mcChargebacks: chargebacks, ...extra } }
  return standing(counts, '2026-02', 'global', exact).mastercard
}

describe('month arithmetic', () => {
  it('steps over year ends and reads the UTC month of an instant', () => {
    expect(addMonths('2025-12', 1)).toBe('2026-01')
    expect(addMonths('2026-01', -1)).toBe('2025-12')
    expect(addMonths('2026-03', 13)).toBe('2027-04')
    expect(monthOf(Date.UTC(2026, 2, 31, 23, 59, 59, 999))).toBe('2026-03')
    expect(monthOf(Date.UTC(2026, 3, 1))).toBe('2026-04')
  })

  it('compares ratios exactly where floats would not', () => {
    // 0.29 * 100 = 28.999999999999996 in floating point; the cross-multiplication does not care
    expect(atLeastBps(29, 100, 2900)).toBe(true)
    expect(atLeastBps(2_199_999_999, 100_000_000_000, 220)).toBe(false)
    expect(atLeastBps(2_200_000_000, 100_000_000_000, 220)).toBe(true)
    expect(atLeastBps(0, 0, 0)).toBe(false)
  })
})

describe('Visa VAMP', () => {
  it('uses 2.20% before 2026-04-01: 2.19% is standard, 2.20% excessive', () => {
    expect(visa('2026-03', 100_000, 2_190)).toMatchObject({ level: 'standard', thresholdBps: 220, thresholdFrom: '2025-06-01', ratio: { bps: 219 } })
    expect(visa('2026-03', 100_000, 2_200)).toMatchObject({ level: 'excessive', thresholdBps: 220, ratio: { numerator: 2_200, denominator: 100_000, bps: 220 } })
  })

  it('uses 1.50% from 2026-04-01: 1.49% is standard, 1.50% excessive', () => {
    expect(visa('2026-04', 200_000, 2_980)).toMatchObject({ level: 'standard', thresholdBps: 150, thresholdFrom: '2026-04-01' })
    expect(visa('2026-04', 200_000, 3_000)).toMatchObject({ level: 'excessive', thresholdBps: 150 })
  })

  it('lets the month decide: the same 1.50% is standard in March 2026 and excessive in April', () => {
    expect(visa('2026-03', 200_000, 3_000).level).toBe('standard')
    expect(visa('2026-04', 200_000, 3_000).level).toBe('excessive')
  })

  it('has no merchant threshold before 2025-06-01', () => {
    expect(vampThreshold('2025-05', 'global')).toBeNull()
    expect(visa('2025-05', 100_000, 5_000)).toMatchObject({ level: 'standard', thresholdBps: null })
    expect(visa('2025-06', 100_000, 5_000).level).toBe('excessive')
  })

  it('applies only above 1,500 fraud + disputes: 1,500 is standard, 1,501 excessive', () => {
    expect(visa('2026-04', 10_000, 1_500)).toMatchObject({ level: 'standard', floorMet: false, ratio: { bps: 1_500 } })
    expect(visa('2026-04', 10_000, 1_501)).toMatchObject({ level: 'excessive', floorMet: true })
  })

  it('MENA: above 100 and above USD 75,000, and 2.20% still after 2026-04-01', () => {
    expect(visa('2026-05', 1_000, 100, 'mena', 7_600_000)).toMatchObject({ level: 'standard', floorMet: false })
    expect(visa('2026-05', 1_000, 101, 'mena', 7_600_000)).toMatchObject({ level: 'excessive', floorMet: true })
    expect(visa('2026-05', 1_000, 101, 'mena', 7_500_000)).toMatchObject({ level: 'standard', floorMet: false })
    expect(visa('2026-05', 1_000, 101, 'mena', 7_500_001).level).toBe('excessive')
    expect(vampThreshold('2026-05', 'mena')).toEqual({ from: '2025-06-01', bps: 220 })
    expect(visa('2026-05', 10_000, 219, 'mena', 9_000_000).level).toBe('standard')
    expect(visa('2026-05', 10_000, 220, 'mena', 9_000_000).level).toBe('excessive')
    // the global floor of 1,500 does not apply in MENA, and the MENA floor not globally
    expect(visa('2026-05', 10_000, 220, 'global', 9_000_000).level).toBe('standard')
  })

  it('dates the level from the first month of its run', () => {
    const counts: CountsByMonth = {
      '2026-04': { visaSettled: 100_000, visaVampDisputes: 1_000 },
      '2026-05': { visaSettled: 100_000, visaVampDisputes: 2_000 },
      '2026-06': { visaSettled: 100_000, visaVampDisputes: 1_800 },
    }
    expect(standing(counts, '2026-04', 'global').visa).toMatchObject({ level: 'standard', since: '2026-04-01' })
    expect(standing(counts, '2026-06', 'global').visa).toMatchObject({ level: 'excessive', since: '2026-05-01' })
    expect(standing(counts, '2026-07', 'global').visa).toMatchObject({ level: 'standard', since: '2026-07-01' })
  })
})

describe('Mastercard CTR bands', () => {
  it('CMM needs 100 chargebacks and 1.00%', () => {
    expect(mc(10_000, 99).level).toBe('none')
    expect(mc(9_900, 99).level).toBe('none') // 1.00% but 99 chargebacks
    expect(mc(10_001, 100).level).toBe('none') // 100 chargebacks but 0.9999%
    expect(mc(10_000, 100)).toMatchObject({ level: 'cmm', ctr: { numerator: 100, denominator: 10_000, bps: 100 } })
  })

  it('ECM from 100 chargebacks and 1.50%; 1.49% stays CMM', () => {
    expect(mc(10_000, 149).level).toBe('cmm')
    expect(mc(10_000, 150).level).toBe('ecm')
    expect(mc(6_600, 99).level).toBe('none') // 1.50% with 99
    expect(mc(6_666, 100).level).toBe('ecm')
    expect(mc(6_667, 100).level).toBe('cmm') // 1.4999%
  })

  it('HECM needs both 300 chargebacks and 3.00%; 299 or 2.99% is ECM', () => {
    expect(mc(10_000, 299).level).toBe('ecm') // 2.99%
    expect(mc(9_966, 299).level).toBe('ecm') // 3.0002% but 299
    expect(mc(10_001, 300).level).toBe('ecm') // 300 but 2.9997%
    expect(mc(10_000, 300)).toMatchObject({ level: 'hecm', ctr: { bps: 300 } })
  })

  it('divides by the previous month\'s sales, not this month\'s', () => {
    // 150 chargebacks in February over January's 10,000 sales = 1.50%, whatever February sold
    expect(mc(10_000, 150, { mcSales: 1_000_000 })).toMatchObject({ level: 'ecm', ctr: { denominator: 10_000 } })
    expect(mc(1_000_000, 150, { mcSales: 10_000 })).toMatchObject({ level: 'none', ctr: { denominator: 1_000_000 } })
  })

  it('ends ECM status only after two consecutive complete months below 1.50%', () => {
    const counts: Record<string, Partial<MonthCounts>> = {
      '2026-01': { mcSales: 10_000 },
      '2026-02': { mcSales: 10_000, mcChargebacks: 150 },
      '2026-03': { mcSales: 10_000, mcChargebacks: 100 }, // 1.00%: first month below
      '2026-04': { mcSales: 10_000, mcChargebacks: 100 }, // second month below: out
    }
    expect(standing(counts, '2026-02', 'global').mastercard).toMatchObject({ level: 'ecm', since: '2026-02-01', inExcessiveProgramme: true })
    expect(standing(counts, '2026-03', 'global').mastercard).toMatchObject({ level: 'ecm', since: '2026-02-01', inExcessiveProgramme: true, monthsBelowExit: 1, ctr: { bps: 100 } })
    expect(standing(counts, '2026-04', 'global').mastercard).toMatchObject({ level: 'cmm', since: '2026-04-01', inExcessiveProgramme: false })
    // a month still running cannot complete the exit
    expect(standing(counts, '2026-04', 'global', { partial: true }).mastercard).toMatchObject({ level: 'ecm', monthsBelowExit: 1 })
    // a month at or above 1.50% (even with too few chargebacks for ECM) restarts the count
    const interrupted: CountsByMonth = {
      ...counts,
      '2026-03': { mcSales: 3_000, mcChargebacks: 100 }, // 100 / 10,000 = 1.00%: first month below
      '2026-04': { mcSales: 10_000, mcChargebacks: 50 }, // 50 / 3,000 = 1.67%: not below, count back to 0
      '2026-05': { mcChargebacks: 10 }, // 0.10%: first month below again
    }
    expect(standing(interrupted, '2026-04', 'global').mastercard).toMatchObject({ level: 'ecm', monthsBelowExit: 0, ctr: { bps: 166 } })
    expect(standing(interrupted, '2026-05', 'global').mastercard).toMatchObject({ level: 'ecm', monthsBelowExit: 1 })
    expect(standing(interrupted, '2026-06', 'global').mastercard).toMatchObject({ level: 'none', inExcessiveProgramme: false })
  })

  it('HECM status also ends by the same exit rule and drops to ECM in between', () => {
    const counts: CountsByMonth = {
      '2026-01': { mcSales: 10_000 },
      '2026-02': { mcSales: 10_000, mcChargebacks: 300 },
      '2026-03': { mcSales: 10_000, mcChargebacks: 200 },
      '2026-04': { mcSales: 10_000, mcChargebacks: 10 },
      '2026-05': { mcChargebacks: 10 },
    }
    expect(standing(counts, '2026-02', 'global').mastercard.level).toBe('hecm')
    expect(standing(counts, '2026-03', 'global').mastercard).toMatchObject({ level: 'ecm', since: '2026-03-01' })
    expect(standing(counts, '2026-04', 'global').mastercard).toMatchObject({ level: 'ecm', since: '2026-03-01', monthsBelowExit: 1 })
    expect(standing(counts, '2026-05', 'global').mastercard).toMatchObject({ level: 'none', since: '2026-05-01' })
  })
})

describe('Mastercard EFM', () => {
  // previous month: 2,000 sales, 199 with 3DS (9.95%); this month: 10 fraud chargebacks (0.50%) worth USD 50,000
  const base = { prev: { mcSales: 2_000, mcSales3ds: 199 }, cur: { mcFraudChargebacks: 10, mcChargebacks: 10, mcFraudChargebackUsdMinor: 5_000_000 } }
  const efm = (cur: Partial<MonthCounts> = {}, prev: Partial<MonthCounts> = {}, regulated = false) =>
    standing({ '2026-01': { ...base.prev, ...prev }, '2026-02': { ...base.cur, ...cur } }, '2026-02', 'global', { ...exact, regulated }).mastercard.efm

  it('is met when all four conditions hold at their edges', () => {
    expect(efm()).toMatchObject({
      met: true,
      since: '2026-02-01',
      conditions: { prevMonthSales: true, fraudAmount: true, fraudRatio: true, threeDsShare: true },
      fraudRatio: { numerator: 10, denominator: 2_000, bps: 50 },
    })
  })

  it('needs 1,000 sales in the previous month', () => {
    expect(efm({ mcFraudChargebacks: 5 }, { mcSales: 1_000, mcSales3ds: 99 }).met).toBe(true)
    expect(efm({ mcFraudChargebacks: 5 }, { mcSales: 999, mcSales3ds: 99 })).toMatchObject({ met: false, conditions: { prevMonthSales: false, fraudRatio: true } })
  })

  it('needs USD 50,000 of fraud chargebacks', () => {
    expect(efm({ mcFraudChargebackUsdMinor: 4_999_999 })).toMatchObject({ met: false, conditions: { fraudAmount: false } })
  })

  it('needs a fraud ratio of 0.50% over the previous month\'s sales', () => {
    expect(efm({ mcFraudChargebacks: 9 })).toMatchObject({ met: false, conditions: { fraudRatio: false } })
    expect(efm({}, { mcSales: 2_001, mcSales3ds: 199 })).toMatchObject({ met: false, conditions: { fraudRatio: false } })
    expect(efm({}, { mcSales: 1_999, mcSales3ds: 199 }).met).toBe(true)
  })

  it('needs a 3DS share below 10% (below 50% where regulated)', () => {
    expect(efm({}, { mcSales3ds: 200 })).toMatchObject({ met: false, conditions: { threeDsShare: false }, threeDsShare: { bps: 1_000 } })
    expect(efm({}, { mcSales3ds: 999 }, true).met).toBe(true)
    expect(efm({}, { mcSales3ds: 1_000 }, true)).toMatchObject({ met: false, conditions: { threeDsShare: false } })
  })
})

describe('drain', () => {
  it('drains a Visa MID within the margin of the threshold in force, counting floors with their margin', () => {
    const at = (count: number, settled = 200_000) =>
      standing({ '2026-04': { visaSettled: settled, visaVampDisputes: count } }, '2026-04', 'global', { marginBps: 20, floorMarginPct: 10 })
    expect(at(2_598)).toMatchObject({ drain: false, visa: { level: 'standard', drain: false } }) // 1.299%
    expect(at(2_600)).toMatchObject({ drain: true, visa: { level: 'standard', drain: true } }) // 1.30%
    expect(at(2_600).reasons).toEqual(['visa: VAMP ratio within 20 bps of 150 bps'])
    // near the count floor: 1,350 is within 10% of 1,500
    expect(at(1_349, 10_000).drain).toBe(false)
    expect(at(1_350, 10_000).drain).toBe(true)
    expect(at(3_000)).toMatchObject({ drain: true, visa: { level: 'excessive' }, reasons: ['visa: VAMP excessive'] })
  })

  it('drains a Mastercard MID near ECM, not near CMM, and not for carried-over status alone', () => {
    const at = (chargebacks: number) => standing({ '2026-01': { mcSales: 10_000 }, '2026-02': { mcChargebacks: chargebacks } }, '2026-02', 'global', { marginBps: 20, floorMarginPct: 0 })
    expect(at(129)).toMatchObject({ drain: false, mastercard: { level: 'cmm' } })
    expect(at(130)).toMatchObject({ drain: true, mastercard: { level: 'cmm', drain: true } })
    expect(at(130).reasons).toEqual(['mastercard: CTR within 20 bps of ECM 150 bps'])
    const carried = standing(
      { '2026-01': { mcSales: 10_000 }, '2026-02': { mcSales: 10_000, mcChargebacks: 150 }, '2026-03': { mcChargebacks: 20 } },
      '2026-03',
      'global',
      { marginBps: 20, floorMarginPct: 0, partial: true },
    )
    expect(carried).toMatchObject({ drain: false, mastercard: { level: 'ecm', inExcessiveProgramme: true } })
  })

  it('a zero margin drains exactly at the thresholds', () => {
    const at = (count: number) => standing({ '2026-03': { visaSettled: 100_000, visaVampDisputes: count } }, '2026-03', 'global', exact)
    expect(at(2_199).drain).toBe(false)
    expect(at(2_200).drain).toBe(true)
  })
})
