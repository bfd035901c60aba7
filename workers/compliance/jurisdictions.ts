/**
 * Age-verification law by jurisdiction, from shared/specs/compliance.md §5. Data, not code: a law
 * switches on by its `effectiveFrom` date (gated from the day before, UTC), and the table is the
 * only place to change when a law does.
 * @module
 */

/** Project vocabulary of age-verification methods (compliance.md §5). */
export type AvMethod =
  | 'ID_DOC'
  | 'DIGITAL_ID'
  | 'TXN_DATA'
  | 'CC'
  | 'OB'
  | 'FAE'
  | 'MNO'
  | 'EMAIL_AE'
  | 'DBL_ANON'
  | 'F2F'

export interface AvLaw {
  /** `CC` or `CC-RR` (ISO 3166-1 alpha-2, ISO 3166-2 suffix) */
  key: string
  law: string
  /** first day the law applies, YYYY-MM-DD */
  effectiveFrom: string
  methods: AvMethod[]
  /** the law wants a check at every visit/session, not a one-off */
  perSession: boolean
  note: string
}

const US: AvMethod[] = ['DIGITAL_ID', 'ID_DOC', 'TXN_DATA']

function us(region: string, law: string, effectiveFrom: string, note = '', methods: AvMethod[] = US): AvLaw {
  return { key: `US-${region}`, law, effectiveFrom, methods, perSession: false, note }
}

export const AV_LAWS: readonly AvLaw[] = [
  us('LA', 'Act 440 (2022)', '2023-01-01', '>1/3; LA Wallet digital ID'),
  us('UT', 'SB 287', '2023-05-02', '>1/3'),
  us('MS', 'SB 2346', '2023-07-01'),
  us('VA', 'SB 1515', '2023-07-01'),
  us('AR', 'SB 66 (Act 612)', '2023-07-31'),
  us('TX', 'HB 1181', '2023-09-01', '>1/3; no data retention; upheld in FSC v. Paxton (2025)'),
  us('MT', 'SB 544', '2024-01-01'),
  us('NC', 'HB 8 (PAVE Act)', '2024-01-01'),
  us('IN', 'SB 17', '2024-07-01', 'enjoined 2024-06-28, status unverified: gated to be safe'),
  us('ID', 'H 498', '2024-07-01'),
  us('KS', 'SB 394', '2024-07-01', 'threshold reportedly 25%'),
  us('KY', 'HB 278', '2024-07-03', 'date 3 or 15 July: the earlier is used'),
  us('NE', 'LB 1092', '2024-07-18'),
  us('AL', 'HB 164', '2024-10-01', 'health warnings; written consent of each person depicted'),
  us('OK', 'SB 1959', '2024-11-01'),
  us('FL', 'HB 3', '2025-01-01', 'must offer an anonymous AV option'),
  us('TN', 'SB 1792', '2025-01-01', 'criminal exposure'),
  us('SC', 'H 3424', '2025-01-01', '>1/3'),
  us('GA', 'SB 351', '2025-07-01', '33 1/3%'),
  us('SD', 'HB 1053', '2025-07-01', 'any amount of harmful material'),
  us('WY', 'HB 43', '2025-07-01', 'scope disputed; gated anyway'),
  us('ND', 'HB 1561', '2025-08-01', '>=1/3; no retention'),
  us('AZ', 'HB 2112', '2025-09-26', '>1/3; no retention, no transfer to government'),
  us('OH', 'HB 96', '2025-09-30'),
  us('MO', '15 CSR 60-18', '2025-11-30', '>=1/3; facial age estimation contemplated', [...US, 'FAE']),
  us('WV', '2026 act', '2026-06-12', '>=1/3'),
  us('IA', 'HF 864', '2026-07-01'),
  {
    key: 'GB',
    law: 'Online Safety Act 2023 (Part 5 / Part 3)',
    effectiveFrom: '2025-01-17',
    methods: ['OB', 'ID_DOC', 'FAE', 'MNO', 'CC', 'DIGITAL_ID', 'EMAIL_AE'],
    perSession: false,
    note: 'Ofcom HEAA; no explicit content before or during the check',
  },
  {
    key: 'FR',
    law: 'Loi SREN 2024-449 + Arcom référentiel',
    effectiveFrom: '2025-01-11',
    methods: ['DBL_ANON', 'ID_DOC', 'DIGITAL_ID'],
    perSession: true,
    note: 'independent third party; at least one double-anonymity option; CC tolerance ended 2025-04-11',
  },
  {
    key: 'IT',
    law: 'AGCOM Delibera 96/25/CONS',
    effectiveFrom: '2025-11-12',
    methods: ['DBL_ANON'],
    perSession: true,
    note: 'certified independent third party; per-session check',
  },
  {
    key: 'DE',
    law: 'JMStV §4(2), KJM AVS criteria',
    effectiveFrom: '2003-04-01',
    methods: ['F2F', 'DIGITAL_ID'],
    perSession: true,
    note: 'closed user group: one-time F2F-grade identification and authentication every session',
  },
  {
    key: 'AU',
    law: 'Online Safety Act 2021, Age-Restricted Material Codes',
    effectiveFrom: '2026-03-09',
    methods: ['ID_DOC', 'FAE', 'CC', 'DIGITAL_ID'],
    perSession: false,
    note: '"I am 18" click insufficient',
  },
  {
    key: 'EU',
    law: 'DSA Art. 28 + Commission guidelines (14 Jul 2025)',
    effectiveFrom: '2025-07-14',
    methods: ['DIGITAL_ID', 'ID_DOC', 'FAE', 'DBL_ANON'],
    perSession: false,
    note: 'age assurance accurate, reliable, robust, non-intrusive',
  },
]

export const EU_MEMBERS = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
  'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
])

export interface JurisdictionPolicy {
  /** lookup key that decided: `US-TX`, `GB`, `EU`, `unknown`, or `none` */
  key: string
  /** visitor must pass age verification before seeing the brand's content */
  gated: boolean
  /** an operator rule blocks the brand here entirely */
  blocked: boolean
  reason: string
  law: string | null
  methods: AvMethod[]
  perSession: boolean
  /** origin pool an operator geo rule routes this visitor to */
  routePoolId: string | null
}

const DAY_MS = 86_400_000
const LAWS_BY_KEY = new Map(AV_LAWS.map((law) => [law.key, law]))
/** instant from which each law gates: the day before it takes effect, 00:00 UTC */
const GATED_FROM_MS = new Map(AV_LAWS.map((law) => [law.key, Date.parse(`${law.effectiveFrom}T00:00:00Z`) - DAY_MS]))

const FAIL_CLOSED_METHODS: AvMethod[] = ['ID_DOC', 'DIGITAL_ID', 'TXN_DATA']

/** The age-verification law that applies to a visitor, if any is in force at `nowMs`. */
export function lawFor(country: string, region: string | null, nowMs: number): AvLaw | undefined {
  const candidates = [region ? `${country}-${region}` : undefined, country, EU_MEMBERS.has(country) ? 'EU' : undefined]
  for (const key of candidates) {
    if (!key) continue
    const law = LAWS_BY_KEY.get(key)
    if (law && nowMs >= (GATED_FROM_MS.get(key) ?? Infinity)) return law
  }
  return undefined
}

/**
 * Statutory policy for a location. Fails closed: no country, `XX` (unknown) or `T1` (Tor) is gated
 * with the strictest common method set, as compliance.md §5 requires.
 */
export function statutoryPolicy(country: string | null, region: string | null, nowMs: number): JurisdictionPolicy {
  const base = { blocked: false, routePoolId: null }
  if (!country || country === 'XX' || country === 'T1') {
    const why = !country ? 'location unavailable' : country === 'T1' ? 'Tor exit node' : 'location unknown'
    return { ...base, key: 'unknown', gated: true, reason: `${why}: age verification required`, law: null, methods: FAIL_CLOSED_METHODS, perSession: false }
  }
  const law = lawFor(country, region, nowMs)
  if (!law) return { ...base, key: 'none', gated: false, reason: 'no age-verification law in force', law: null, methods: [], perSession: false }
  return { ...base, key: law.key, gated: true, reason: `${law.law} in force since ${law.effectiveFrom}`, law: law.law, methods: law.methods, perSession: law.perSession }
}
