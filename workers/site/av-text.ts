/**
 * Plain words for the age-verification vocabulary (compliance.md §5) and for where a visitor is,
 * shared by the brand age gate and the SSO host's age-verification page.
 * @module
 */
import type { AvMethod, JurisdictionPolicy } from '../compliance/jurisdictions'
import type { Geo } from '../edge/context'

export const METHOD_TEXT: Record<AvMethod, { name: string; detail: string }> = {
  DIGITAL_ID: { name: 'Digital ID', detail: 'a mobile driver’s licence or a government digital identity wallet' },
  ID_DOC: { name: 'Photo ID with a selfie', detail: 'a government photo ID, matched to a live selfie' },
  TXN_DATA: { name: 'Records check', detail: 'an independent provider checks commercial records (for example mortgage, credit or utility records)' },
  CC: { name: 'Credit card check', detail: 'your card issuer confirms the card holder is an adult' },
  OB: { name: 'Bank check', detail: 'your bank confirms you are an adult (open banking)' },
  FAE: { name: 'Facial age estimation', detail: 'a selfie is used to estimate your age' },
  MNO: { name: 'Mobile network check', detail: 'your mobile operator confirms the account holder is an adult' },
  EMAIL_AE: { name: 'Email-based check', detail: 'your email address is checked against records of where it has been used' },
  DBL_ANON: { name: 'Double-anonymous token', detail: 'an independent provider confirms you are 18 or older; the site learns nothing else and the provider does not learn which site you visit' },
  F2F: { name: 'In-person or eID identification', detail: 'a one-time identity check in person or with an electronic ID card, then a sign-in at every visit' },
}

const US_STATES: Record<string, string> = {
  AL: 'Alabama', AK: 'Alaska', AZ: 'Arizona', AR: 'Arkansas', CA: 'California', CO: 'Colorado', CT: 'Connecticut',
  DE: 'Delaware', DC: 'District of Columbia', FL: 'Florida', GA: 'Georgia', HI: 'Hawaii', ID: 'Idaho', IL: 'Illinois',
  IN: 'Indiana', IA: 'Iowa', KS: 'Kansas', KY: 'Kentucky', LA: 'Louisiana', ME: 'Maine', MD: 'Maryland',
  MA: 'Massachusetts', MI: 'Michigan', MN: 'Minnesota', MS: 'Mississippi', MO: 'Missouri', MT: 'Montana',
  NE: 'Nebraska', NV: 'Nevada', NH: 'New Hampshire', NJ: 'New Jersey', NM: 'New Mexico', NY: 'New York',
  NC: 'North Carolina', ND: 'North Dakota', OH: 'Ohio', OK: 'Oklahoma', OR: 'Oregon', PA: 'Pennsylvania',
  RI: 'Rhode Island', SC: 'South Carolina', SD: 'South Dakota', TN: 'Tennessee', TX: 'Texas', UT: 'Utah',
  VT: 'Vermont', VA: 'Virginia', WA: 'Washington', WV: 'West Virginia', WI: 'Wisconsin', WY: 'Wyoming',
}

let regionNames: Intl.DisplayNames | undefined

function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' })
    return regionNames.of(code) ?? code
  } catch {
    return code
  }
}

/** `Texas, United States`, `France`; null when the location is unknown (missing, `XX`, Tor). */
export function placeName(geo: Geo): string | null {
  if (!geo.country || geo.country === 'XX' || geo.country === 'T1') return null
  const country = countryName(geo.country)
  const region = geo.country === 'US' && geo.region ? US_STATES[geo.region] : undefined
  return region ? `${region}, ${country}` : country
}

/** Why this visitor is asked to verify, in one sentence. */
export function gateExplanation(policy: JurisdictionPolicy, geo: Geo): string {
  const place = placeName(geo)
  if (policy.law) return `${policy.law} applies in ${place ?? 'your location'} and requires adult sites to check that every visitor is 18 or older before showing any content.`
  if (policy.key === 'unknown') {
    const why = geo.isTor ? 'you are connecting through Tor' : 'your location could not be determined'
    return `We ask every visitor to verify their age when we cannot tell where they are, and ${why}.`
  }
  return `An age check is required for visitors from ${place ?? 'your location'} (${policy.reason}).`
}
