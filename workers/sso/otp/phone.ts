/**
 * Phone numbers for SMS codes: parsed and normalised to E.164 with libphonenumber-js and its `max`
 * metadata, the only set that tells a mobile range from a fixed line, VoIP or toll-free one. Only
 * numbers that can be mobile are accepted (`MOBILE`, or `FIXED_LINE_OR_MOBILE` where the numbering
 * plan does not say, as in the US): an SMS code sent to a landline never arrives, and NIST SP
 * 800-63B asks verifiers to refuse VoIP numbers for out-of-band codes.
 * Input must be international (`+` and a country code): the SSO host serves every country and has
 * no trustworthy default region.
 * @module
 */
import { parsePhoneNumberWithError, ParseError, type PhoneNumberType } from 'libphonenumber-js/max'
import { z } from 'zod'

const ACCEPTED_TYPES: ReadonlySet<PhoneNumberType> = new Set<PhoneNumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE'])

const TYPE_NAMES: Partial<Record<PhoneNumberType, string>> = {
  FIXED_LINE: 'a landline',
  VOIP: 'an internet (VoIP) number',
  TOLL_FREE: 'a toll-free number',
  PREMIUM_RATE: 'a premium-rate number',
  SHARED_COST: 'a shared-cost number',
  PAGER: 'a pager number',
  PERSONAL_NUMBER: 'a personal (forwarding) number',
  UAN: 'a company number',
  VOICEMAIL: 'a voicemail number',
}

export type PhoneParse = { ok: true; e164: string; countryCallingCode: string } | { ok: false; message: string }

/** `+1 415 555 2671`, `+44 (0)7911 123456` ... -> `+14155552671`; refuses what cannot take an SMS. */
export function parseMobilePhone(input: string): PhoneParse {
  const text = input.trim()
  if (!text) return { ok: false, message: 'enter a mobile number' }
  if (text.length > 40) return { ok: false, message: 'must be at most 40 characters' }
  if (!text.startsWith('+')) return { ok: false, message: 'must start with + and the country code, e.g. +1 415 555 2671' }
  let number
  try {
    number = parsePhoneNumberWithError(text)
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, message: 'is not a phone number' }
    throw error
  }
  if (!number.isValid()) return { ok: false, message: 'is not a valid phone number' }
  if (number.ext) return { ok: false, message: 'must be a mobile number without an extension' }
  const type = number.getType()
  if (!type || !ACCEPTED_TYPES.has(type)) {
    const what = type ? TYPE_NAMES[type] : undefined
    return { ok: false, message: `must be a mobile number that can receive text messages${what ? ` (this is ${what})` : ''}` }
  }
  return { ok: true, e164: number.number, countryCallingCode: number.countryCallingCode }
}

/** An already normalised E.164 number (what is stored in `users.phone_e164` and `sms_outbox.to_e164`). */
export const E164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155552671')

/** `+14155552671` -> `+1 ••• ••• 2671`: enough for the owner to recognise, too little to reuse. */
export function maskPhone(e164: string): string {
  let cc = ''
  try {
    cc = parsePhoneNumberWithError(e164).countryCallingCode
  } catch {
    // not expected for stored numbers; keep the mask useful without a country code
  }
  return `${cc ? `+${cc} ` : ''}••• ••• ${e164.slice(-4)}`
}

/** `ann.lee@example.com` -> `a•••@example.com`. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '•••'
  return `${Array.from(email.slice(0, at))[0]}•••${email.slice(at)}`
}
