/**
 * The card network and reason code of a chargeback, read from the gateway's raw postback (kept in R2
 * as evidence by webhooks/ingest.ts) when it carries them: explicit fields first, then the reason
 * text, which several gateways (and the sandbox) send as "<code> <description>", e.g. Visa's
 * "10.4 Other Fraud - Card Absent Environment" or Mastercard's "4837 No Cardholder Authorization".
 * Nothing is guessed beyond that: an unknown format leaves both null.
 * @module
 */

export interface DisputeCodes {
  network: string | null
  reasonCode: string | null
}

const NETWORK_KEYS = ['network', 'cardnetwork', 'card_network', 'cardbrand', 'card_brand', 'cardtype', 'card_type']
const REASON_CODE_KEYS = ['reasoncode', 'reason_code', 'chargebackreasoncode', 'chargeback_reason_code']
const REASON_TEXT_KEYS = ['reason', 'chargebackreason', 'chargeback_reason', 'reasondescription']

const NETWORK_NAMES: Record<string, string> = {
  visa: 'visa',
  vi: 'visa',
  mastercard: 'mastercard',
  mc: 'mastercard',
  master: 'mastercard',
  amex: 'amex',
  americanexpress: 'amex',
  discover: 'discover',
  jcb: 'jcb',
}

/** Visa dispute conditions are `10.x`..`13.x`; Mastercard message reason codes are four digits `48xx`/`49xx`. */
function networkOfCode(code: string): string | null {
  if (/^1[0-3]\.\d{1,2}$/.test(code)) return 'visa'
  if (/^4[89]\d{2}$/.test(code)) return 'mastercard'
  return null
}

function normalizeNetwork(value: string): string | null {
  const key = value.toLowerCase().replace(/[^a-z]/g, '')
  return NETWORK_NAMES[key] ?? null
}

/** Top-level string fields of a JSON or URL-encoded body, keys lower-cased. */
export function postbackFields(body: string): Record<string, string> {
  const fields: Record<string, string> = {}
  const trimmed = body.trim()
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string' || typeof value === 'number') fields[key.toLowerCase()] = String(value)
    } catch {
      // not JSON after all: nothing to read
    }
    return fields
  }
  for (const [key, value] of new URLSearchParams(trimmed)) fields[key.toLowerCase()] = value
  return fields
}

export function disputeCodes(fields: Record<string, string>): DisputeCodes {
  const pick = (keys: string[]) => keys.map((k) => fields[k]?.trim()).find((v) => v)
  let reasonCode = pick(REASON_CODE_KEYS) ?? null
  if (!reasonCode) {
    const text = pick(REASON_TEXT_KEYS)
    const leading = text?.match(/^(\d{1,2}\.\d{1,2}|\d{4})\b/)
    if (leading && networkOfCode(leading[1]!)) reasonCode = leading[1]!
  }
  const named = pick(NETWORK_KEYS)
  const network = (named ? normalizeNetwork(named) : null) ?? (reasonCode ? networkOfCode(reasonCode) : null)
  return { network, reasonCode: reasonCode ? reasonCode.slice(0, 32) : null }
}

/** Reads the raw postback an event came in (R2 `EXPORTS`, key from `gateway_events.evidence_key`). */
export async function codesFromEvidence(bucket: R2Bucket, evidenceKey: string | null): Promise<DisputeCodes> {
  if (!evidenceKey) return { network: null, reasonCode: null }
  const stored = await bucket.get(evidenceKey)
  if (!stored) return { network: null, reasonCode: null }
  try {
    const raw = (await stored.json()) as { url?: string; body?: string }
    const fields = postbackFields(raw.body ?? '')
    // CCBill-style gateways put some fields in the postback URL's query string
    if (raw.url) for (const [key, value] of new URL(raw.url).searchParams) fields[key.toLowerCase()] ??= value
    return disputeCodes(fields)
  } catch {
    return { network: null, reasonCode: null }
  }
}
