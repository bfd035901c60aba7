/**
 * The card networks' merchant monitoring programmes as data (with the dates they take effect) and
 * `standing(counts, month, region)`: a merchant ID's level in each programme for one month, the month
 * that level started, and whether routing should drain the MID. Pure: no clock, no storage.
 *
 * Every comparison is integer arithmetic: a ratio `n / d` is at or above `t` basis points when
 * `n * 10_000 >= t * d` (BigInt, so no count can overflow and no float rounding decides a boundary).
 * Amounts are USD minor units (cents).
 *
 * Facts: ../shared/specs/payments.md §3 (Visa figures come from acquirer summaries, not Visa's rule text).
 * - Visa VAMP: (TC40 fraud reports + TC15 disputes) / settled transactions (TC05) of the same month,
 *   RDR-resolved disputes and CE 3.0-qualified TC40s excluded (the caller counts them out). Merchant
 *   "excessive" >= 2.20% from 2025-06-01, >= 1.50% from 2026-04-01 outside MENA (MENA stays 2.20%);
 *   only when the count exceeds 1,500 (MENA: exceeds 100 and exceeds USD 75,000).
 * - Mastercard CTR = chargebacks in the month / Mastercard sales in the previous month.
 *   CMM (warning) >= 100 and >= 1.00%; ECM >= 100 and >= 1.50%; HECM >= 300 and >= 3.00% (both
 *   needed). The spec's "100-299 and 1.50-2.99%" band is ECM minus HECM; a month that meets ECM's
 *   floor and ratio but only one of HECM's two conditions (e.g. 320 at 2.10%, or 150 at 4.00%) is
 *   ECM. ECM/HECM status lasts until two consecutive (complete) months below 1.50%.
 * - Mastercard EFM: all four in one month: >= 1,000 sales in the previous month, >= USD 50,000 of
 *   fraud chargebacks (reason codes 4837, 4863), fraud chargebacks / previous month's sales >= 0.50%,
 *   and the 3DS share of the previous month's sales < 10% (non-regulated) / < 50% (regulated).
 * @module
 */

export type Month = string // 'YYYY-MM'
export type MidRegion = 'global' | 'mena'
export type VisaLevel = 'standard' | 'excessive'
export type MastercardLevel = 'none' | 'cmm' | 'ecm' | 'hecm'

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/

/** The counts one month contributes, per network. Amounts in USD minor units. */
export interface MonthCounts {
  /** settled Visa transactions (TC05) */
  visaSettled: number
  /** Visa disputes (TC15) counted by VAMP: RDR-resolved and CE 3.0-qualified left out */
  visaVampDisputes: number
  /** Visa fraud reports (TC40) counted by VAMP: CE 3.0-qualified left out */
  visaVampFraudReports: number
  /** USD value of the VAMP-counted disputes and fraud reports (MENA floor) */
  visaVampUsdMinor: number
  /** settled Mastercard sales */
  mcSales: number
  /** of which authenticated with 3-D Secure */
  mcSales3ds: number
  mcChargebacks: number
  /** chargebacks under the EFM reason codes */
  mcFraudChargebacks: number
  mcFraudChargebackUsdMinor: number
}

export const ZERO_COUNTS: MonthCounts = Object.freeze({
  visaSettled: 0,
  visaVampDisputes: 0,
  visaVampFraudReports: 0,
  visaVampUsdMinor: 0,
  mcSales: 0,
  mcSales3ds: 0,
  mcChargebacks: 0,
  mcFraudChargebacks: 0,
  mcFraudChargebackUsdMinor: 0,
})

/** The programmes, as data. Dates are the first day of the first month a figure applies to. */
export const PROGRAMMES = {
  visaVamp: {
    /** merchant "excessive" ratio by region, newest last */
    excessiveBps: {
      global: [
        { from: '2025-06-01', bps: 220 },
        { from: '2026-04-01', bps: 150 },
      ],
      mena: [{ from: '2025-06-01', bps: 220 }],
    } satisfies Record<MidRegion, ReadonlyArray<{ from: string; bps: number }>>,
    /** the count must exceed this (strictly) */
    countFloor: { global: 1_500, mena: 100 } satisfies Record<MidRegion, number>,
    /** MENA only: the USD value must exceed this (strictly) */
    menaUsdFloorMinor: 7_500_000,
  },
  mastercard: {
    cmm: { minChargebacks: 100, bps: 100 },
    ecm: { minChargebacks: 100, bps: 150 },
    hecm: { minChargebacks: 300, bps: 300 },
    /** ECM/HECM ends after this many consecutive complete months below `ecm.bps` */
    exitMonthsBelow: 2,
    efm: {
      minPrevMonthSales: 1_000,
      minFraudUsdMinor: 5_000_000,
      bps: 50,
      fraudReasonCodes: ['4837', '4863'],
      /** 3DS share of the previous month's sales must be below this for EFM to apply */
      max3dsShareBps: { regulated: 5_000, nonRegulated: 1_000 },
    },
  },
} as const

export interface StandingOptions {
  /** drain once a ratio is within this many basis points below a draining threshold */
  marginBps?: number
  /** ... and the counts (and the USD amounts) are within this many percent below their floors */
  floorMarginPct?: number
  /** the month is still running: it cannot complete an ECM exit yet */
  partial?: boolean
  /** Strong Customer Authentication applies (EEA, UK): EFM's 3DS share limit is 50% */
  regulated?: boolean
}

export const DEFAULT_MARGIN_BPS = 20
export const DEFAULT_FLOOR_MARGIN_PCT = 10

/** `numerator / denominator` with its value in whole basis points (rounded down; null for 0 / 0). */
export interface Ratio {
  numerator: number
  denominator: number
  bps: number | null
}

export interface VisaStanding {
  level: VisaLevel
  /** first day of the first month of the run of months at this level that ends at `month` */
  since: string
  /** VAMP count = disputes + fraud reports */
  count: number
  usdMinor: number
  ratio: Ratio
  /** the excessive threshold in force for the month, null before VAMP merchant thresholds applied */
  thresholdBps: number | null
  thresholdFrom: string | null
  floorMet: boolean
  drain: boolean
}

export interface EfmStanding {
  met: boolean
  since: string | null
  conditions: { prevMonthSales: boolean; fraudAmount: boolean; fraudRatio: boolean; threeDsShare: boolean }
  fraudRatio: Ratio
  threeDsShare: Ratio
  fraudUsdMinor: number
  drain: boolean
}

export interface MastercardStanding {
  level: MastercardLevel
  since: string
  /** chargebacks this month / sales the previous month */
  ctr: Ratio
  /** in ECM/HECM status (possibly carried over from an earlier month) */
  inExcessiveProgramme: boolean
  /** consecutive complete months below 1.50% while in ECM/HECM status */
  monthsBelowExit: number
  efm: EfmStanding
  drain: boolean
}

export interface Standing {
  month: Month
  region: MidRegion
  visa: VisaStanding
  mastercard: MastercardStanding
  /** routing should stop sending new traffic */
  drain: boolean
  /** why `drain` is set, one line per programme */
  reasons: string[]
}

export type CountsByMonth = Readonly<Record<Month, Partial<MonthCounts>>>

export function isMonth(value: string): boolean {
  return MONTH_RE.test(value)
}

/** The UTC calendar month of an instant. */
export function monthOf(ms: number): Month {
  return new Date(ms).toISOString().slice(0, 7)
}

export function addMonths(month: Month, delta: number): Month {
  const m = MONTH_RE.exec(month)
  if (!m) throw new RangeError(`not a month: ${month}`)
  const index = Number(m[1]) * 12 + (Number(m[2]) - 1) + delta
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`
}

/** First instant of the month after `month`, UTC ms. */
export function monthEndMs(month: Month): number {
  const next = addMonths(month, 1)
  return Date.UTC(Number(next.slice(0, 4)), Number(next.slice(5, 7)) - 1, 1)
}

const firstDay = (month: Month): string => `${month}-01`

/** n / d >= bps / 10000, exactly; nothing is at or above a threshold with a zero numerator. */
export function atLeastBps(numerator: number, denominator: number, bps: number): boolean {
  if (numerator <= 0) return false
  return BigInt(numerator) * 10_000n >= BigInt(Math.max(0, bps)) * BigInt(denominator)
}

/** n / d < bps / 10000, exactly (0 / 0 counts as below). */
export function belowBps(numerator: number, denominator: number, bps: number): boolean {
  return !atLeastBps(numerator, denominator, bps)
}

export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, bps: denominator === 0 ? null : Number((BigInt(numerator) * 10_000n) / BigInt(denominator)) }
}

/** value reaches `floor` lowered by `pct` percent: value * 100 >= floor * (100 - pct). */
function nearFloor(value: number, floor: number, pct: number): boolean {
  return BigInt(value) * 100n >= BigInt(floor) * BigInt(100 - pct)
}

/** value reaches `floor` exclusive (`> floor`) lowered by `pct` percent. */
function nearFloorExclusive(value: number, floor: number, pct: number): boolean {
  return pct === 0 ? value > floor : nearFloor(value, floor, pct)
}

/** The VAMP merchant-excessive threshold in force for `month` in `region`, or null before there was one. */
export function vampThreshold(month: Month, region: MidRegion): { bps: number; from: string } | null {
  let found: { bps: number; from: string } | null = null
  for (const entry of PROGRAMMES.visaVamp.excessiveBps[region]) if (firstDay(month) >= entry.from) found = entry
  return found
}

function countsAt(counts: CountsByMonth, month: Month): MonthCounts {
  return { ...ZERO_COUNTS, ...counts[month] }
}

interface VisaMonth {
  level: VisaLevel
  count: number
  usd: number
  settled: number
  threshold: { bps: number; from: string } | null
  floorMet: boolean
  drain: boolean
}

function visaMonth(c: MonthCounts, month: Month, region: MidRegion, marginBps: number, floorPct: number): VisaMonth {
  const vamp = PROGRAMMES.visaVamp
  const count = c.visaVampDisputes + c.visaVampFraudReports
  const floor = vamp.countFloor[region]
  const floorWith = (pct: number) =>
    nearFloorExclusive(count, floor, pct) && (region !== 'mena' || nearFloorExclusive(c.visaVampUsdMinor, vamp.menaUsdFloorMinor, pct))
  const threshold = vampThreshold(month, region)
  const floorMet = floorWith(0)
  const excessive = threshold !== null && floorMet && atLeastBps(count, c.visaSettled, threshold.bps)
  const drain = excessive || (threshold !== null && floorWith(floorPct) && atLeastBps(count, c.visaSettled, threshold.bps - marginBps))
  return { level: excessive ? 'excessive' : 'standard', count, usd: c.visaVampUsdMinor, settled: c.visaSettled, threshold, floorMet, drain }
}

/** The level `c` reaches on its own (no carried-over status). */
function mastercardOwnLevel(chargebacks: number, prevSales: number): MastercardLevel {
  const mc = PROGRAMMES.mastercard
  if (chargebacks >= mc.hecm.minChargebacks && atLeastBps(chargebacks, prevSales, mc.hecm.bps)) return 'hecm'
  if (chargebacks >= mc.ecm.minChargebacks && atLeastBps(chargebacks, prevSales, mc.ecm.bps)) return 'ecm'
  if (chargebacks >= mc.cmm.minChargebacks && atLeastBps(chargebacks, prevSales, mc.cmm.bps)) return 'cmm'
  return 'none'
}

interface EfmMonth extends Omit<EfmStanding, 'since'> {}

function efmMonth(c: MonthCounts, prev: MonthCounts, marginBps: number, floorPct: number, regulated: boolean): EfmMonth {
  const efm = PROGRAMMES.mastercard.efm
  const maxShare = regulated ? efm.max3dsShareBps.regulated : efm.max3dsShareBps.nonRegulated
  const conditions = {
    prevMonthSales: prev.mcSales >= efm.minPrevMonthSales,
    fraudAmount: c.mcFraudChargebackUsdMinor >= efm.minFraudUsdMinor,
    fraudRatio: atLeastBps(c.mcFraudChargebacks, prev.mcSales, efm.bps),
    threeDsShare: belowBps(prev.mcSales3ds, prev.mcSales, maxShare),
  }
  const met = conditions.prevMonthSales && conditions.fraudAmount && conditions.fraudRatio && conditions.threeDsShare
  // the sales floor and the 3DS share are last month's facts: only the fraud figures can creep up
  const near =
    conditions.prevMonthSales &&
    conditions.threeDsShare &&
    nearFloor(c.mcFraudChargebackUsdMinor, efm.minFraudUsdMinor, floorPct) &&
    atLeastBps(c.mcFraudChargebacks, prev.mcSales, efm.bps - marginBps)
  return {
    met,
    conditions,
    fraudRatio: ratio(c.mcFraudChargebacks, prev.mcSales),
    threeDsShare: ratio(prev.mcSales3ds, prev.mcSales),
    fraudUsdMinor: c.mcFraudChargebackUsdMinor,
    drain: met || near,
  }
}

/**
 * A MID's standing for `month`, from its counts by month (months absent count as zero). Earlier
 * months matter: Mastercard's denominator is the previous month's sales, ECM/HECM status carries
 * over until two complete months below 1.50%, and `since` reaches back over the run of months at
 * the current level.
 */
export function standing(counts: CountsByMonth, month: Month, region: MidRegion, options: StandingOptions = {}): Standing {
  if (!isMonth(month)) throw new RangeError(`not a month: ${month}`)
  const marginBps = options.marginBps ?? DEFAULT_MARGIN_BPS
  const floorPct = options.floorMarginPct ?? DEFAULT_FLOOR_MARGIN_PCT
  if (!Number.isInteger(marginBps) || marginBps < 0) throw new RangeError('marginBps must be a non-negative integer')
  if (!Number.isInteger(floorPct) || floorPct < 0 || floorPct > 100) throw new RangeError('floorMarginPct must be an integer 0..100')
  const regulated = options.regulated ?? false

  const known = Object.keys(counts).filter((m) => isMonth(m) && m <= month).sort()
  let cursor = known[0] ?? month

  let visaRun: { level: VisaLevel; since: Month } | null = null
  let mcRun: { level: MastercardLevel; since: Month } | null = null
  let efmSince: Month | null = null
  let inProgramme = false
  let monthsBelow = 0
  const mc = PROGRAMMES.mastercard

  for (;;) {
    const c = countsAt(counts, cursor)
    const prev = countsAt(counts, addMonths(cursor, -1))
    const isLast = cursor === month
    const complete = !(isLast && options.partial)

    const v = visaMonth(c, cursor, region, marginBps, floorPct)
    if (!visaRun || visaRun.level !== v.level) visaRun = { level: v.level, since: cursor }

    const own = mastercardOwnLevel(c.mcChargebacks, prev.mcSales)
    let level: MastercardLevel
    if (own === 'ecm' || own === 'hecm') {
      inProgramme = true
      monthsBelow = 0
      level = own
    } else if (inProgramme) {
      if (complete && belowBps(c.mcChargebacks, prev.mcSales, mc.ecm.bps)) monthsBelow += 1
      else if (!belowBps(c.mcChargebacks, prev.mcSales, mc.ecm.bps)) monthsBelow = 0
      if (monthsBelow >= mc.exitMonthsBelow) {
        inProgramme = false
        monthsBelow = 0
      }
      level = inProgramme ? 'ecm' : own
    } else {
      level = own
    }
    if (!mcRun || mcRun.level !== level) mcRun = { level, since: cursor }

    const e = efmMonth(c, prev, marginBps, floorPct, regulated)
    efmSince = e.met ? (efmSince ?? cursor) : null

    if (isLast) {
      // drain on this month's own figures: a MID carried in ECM status with a healthy ratio needs sales to exit
      const ecmNear =
        nearFloor(c.mcChargebacks, mc.ecm.minChargebacks, floorPct) && atLeastBps(c.mcChargebacks, prev.mcSales, mc.ecm.bps - marginBps)
      const mcDrain = own === 'ecm' || own === 'hecm' || ecmNear || e.drain
      const reasons: string[] = []
      if (v.drain) reasons.push(v.level === 'excessive' ? 'visa: VAMP excessive' : `visa: VAMP ratio within ${marginBps} bps of ${v.threshold?.bps} bps`)
      if (own === 'ecm' || own === 'hecm') reasons.push(`mastercard: ${own.toUpperCase()}`)
      else if (ecmNear) reasons.push(`mastercard: CTR within ${marginBps} bps of ECM ${mc.ecm.bps} bps`)
      if (e.drain) reasons.push(e.met ? 'mastercard: EFM' : 'mastercard: near EFM')
      return {
        month,
        region,
        visa: {
          level: v.level,
          since: firstDay(visaRun.since),
          count: v.count,
          usdMinor: v.usd,
          ratio: ratio(v.count, v.settled),
          thresholdBps: v.threshold?.bps ?? null,
          thresholdFrom: v.threshold?.from ?? null,
          floorMet: v.floorMet,
          drain: v.drain,
        },
        mastercard: {
          level,
          since: firstDay(mcRun.since),
          ctr: ratio(c.mcChargebacks, prev.mcSales),
          inExcessiveProgramme: inProgramme,
          monthsBelowExit: monthsBelow,
          efm: { ...e, since: efmSince ? firstDay(efmSince) : null },
          drain: mcDrain,
        },
        drain: v.drain || mcDrain,
        reasons,
      }
    }
    cursor = addMonths(cursor, 1)
  }
}
