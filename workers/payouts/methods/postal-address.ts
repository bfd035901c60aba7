/**
 * Postal addresses for payout methods, shaped after ISO 20022 PostalAddress24 as the EPC 2025 SCT
 * implementation guidelines restrict it (field names and lengths from
 * shared/data/payments/xsd/EPC132-08_2025_V1.0_pain.001.001.09.xsd), so a SEPA file builder can map
 * each field to its element (StrtNm, BldgNb, ..., TwnNm, Ctry, AdrLine) without reparsing.
 *
 * Structured, or hybrid at most: the EPC forbids unstructured-only addresses from 15 Nov 2026
 * (payouts.md §3), so town name and country are always required and the free address lines
 * (AdrLine, at most 2) can only come on top of them.
 * @module
 */
import { z } from 'zod'

/**
 * ISO 3166-1 alpha-2, the 249 officially assigned codes, plus XK (Kosovo: user-assigned in ISO 3166
 * but used by the IBAN registry and SWIFT). Typed in because no country-code package is installed
 * and Intl.DisplayNames also names withdrawn and reserved codes (SU, UK, EU, ZZ, ...).
 */
const ISO_3166_ALPHA2: ReadonlySet<string> = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS' +
    ' BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE' +
    ' EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM' +
    ' HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC' +
    ' LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA' +
    ' NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW' +
    ' SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO' +
    ' TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
  )
    .split(' ')
    .concat('XK'),
)

export function isIsoCountry(code: string): boolean {
  return ISO_3166_ALPHA2.has(code)
}

/** ISO 3166-1 alpha-2, uppercase as the XSD's CountryCode pattern `[A-Z]{2,2}` requires. */
export const CountryCode = z.string().refine(isIsoCountry, 'not an ISO 3166-1 alpha-2 country code (two uppercase letters)')

/** ISO 20022 MaxNText: 1..N characters, surrounding spaces trimmed first. */
export const maxText = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`)

export const PostalAddress = z
  .object({
    department: maxText(70).optional(),
    subDepartment: maxText(70).optional(),
    streetName: maxText(70).optional(),
    buildingNumber: maxText(16).optional(),
    buildingName: maxText(35).optional(),
    floor: maxText(70).optional(),
    postBox: maxText(16).optional(),
    room: maxText(70).optional(),
    postCode: maxText(16).optional(),
    townName: maxText(35).optional(),
    townLocationName: maxText(35).optional(),
    districtName: maxText(35).optional(),
    countrySubDivision: maxText(35).optional(),
    country: CountryCode.optional(),
    /** AdrLine: hybrid addresses only, at most 2 lines (EPC) */
    addressLines: z.array(maxText(70)).max(2, 'at most 2 address lines (EPC 2025)').optional(),
  })
  .strict()
  .superRefine((address, ctx) => {
    // Town and country are checked here rather than as required fields so that an address given only as
    // lines gets an error that says why: the EPC 2025 rule, not just "required".
    const unstructuredOnly = address.addressLines !== undefined && address.townName === undefined
    const why = unstructuredOnly ? ' (EPC 2025: unstructured-only addresses are refused; give the town and country as fields)' : ''
    if (address.townName === undefined) ctx.addIssue({ code: 'custom', path: ['townName'], message: `town name is required${why}` })
    if (address.country === undefined) ctx.addIssue({ code: 'custom', path: ['country'], message: `country is required${why}` })
  })
export type PostalAddress = z.infer<typeof PostalAddress>
