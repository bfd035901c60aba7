import { timingSafeEqualText } from '../../lib/encoding'
import { type Allowlist, ipAllowed } from './ip-allowlist'
import type { NormalizedEvent, PostbackRequest, VerifyResult } from './types'

/** Query parameter that carries our per-gateway secret in the postback URL we register with the gateway. */
export const POSTBACK_TOKEN_PARAM = 'pbt'

export function queryParams(request: PostbackRequest): URLSearchParams {
  return new URL(request.url).searchParams
}

function header(request: PostbackRequest, name: string): string {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === wanted) return value
  return ''
}

/** Body fields (form-encoded or flat JSON) merged over the query string; body wins on conflicts. */
export function postbackFields(request: PostbackRequest): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [key, value] of queryParams(request)) fields[key] = value
  const type = header(request, 'content-type')
  const body = request.rawBody.trim()
  if (type.includes('json') || body.startsWith('{')) {
    const parsed: unknown = body === '' ? {} : JSON.parse(body)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [key, value] of Object.entries(parsed)) {
        if (value !== null && value !== undefined) fields[key] = typeof value === 'string' ? value : JSON.stringify(value)
      }
    }
  } else if (body !== '') {
    for (const [key, value] of new URLSearchParams(body)) fields[key] = value
  }
  delete fields[POSTBACK_TOKEN_PARAM]
  return fields
}

export function safeFields(request: PostbackRequest): Record<string, string> | null {
  try {
    return postbackFields(request)
  } catch {
    return null
  }
}

/**
 * For gateways that publish no postback signature: the source address must be inside the
 * gateway's published (or onboarding-supplied) ranges AND the URL must carry our secret token.
 * Either alone is weak (IPs can be shared/proxied, URLs leak into logs); together they are the
 * documented best available.
 */
export function verifyByIpAndToken(request: PostbackRequest, allowlist: Allowlist, postbackToken: string): VerifyResult {
  if (allowlist.length === 0) return { ok: false, reason: 'allowlist_not_configured' }
  if (postbackToken.length < 16) return { ok: false, reason: 'postback_token_not_configured' }
  if (!ipAllowed(request.sourceIp, allowlist)) return { ok: false, reason: 'source_ip_not_allowed' }
  const token = queryParams(request).get(POSTBACK_TOKEN_PARAM)
  if (!token) return { ok: false, reason: 'missing_postback_token' }
  if (!timingSafeEqualText(token, postbackToken)) return { ok: false, reason: 'bad_postback_token' }
  return { ok: true }
}

/** "YYYY-MM-DD HH:MM:SS" in a fixed offset -> ISO UTC; ISO input passes through normalised. */
export function toIsoUtc(value: string | undefined, offset = '+00:00'): string | null {
  if (!value) return null
  const text = value.trim()
  const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(text)
  const candidate = local ? `${local[1]}T${local[2]}${local[3] ?? ''}${offset}` : text
  const ms = Date.parse(candidate)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

export function event(partial: Omit<NormalizedEvent, 'reference' | 'subscriptionId' | 'transactionId' | 'amount' | 'originalTransactionId' | 'reason'> & Partial<NormalizedEvent>): NormalizedEvent {
  return {
    reference: null,
    subscriptionId: null,
    transactionId: null,
    amount: null,
    originalTransactionId: null,
    reason: null,
    ...partial,
  }
}

export function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim()
}
