import { monotonicFactory } from 'ulidx'

/** Prefixes of every id the platform mints; one table so a prefix is never reused for two things. */
export const ID_PREFIXES = {
  request: 'req',
  brand: 'brd',
  creator: 'crt',
  user: 'usr',
  pool: 'pool',
  origin: 'org',
  geoRule: 'geo',
  healthCheck: 'hck',
  signingKey: 'key',
  audit: 'aud',
  deadLetter: 'dlq',
  session: 'ses',
  refreshFamily: 'rtf',
  emailToken: 'etk',
  authRequest: 'arq',
  serviceClient: 'svc',
  otpChallenge: 'otp',
  webauthnChallenge: 'wac',
  merchantId: 'mid',
  ledgerTransfer: 'ltx',
  payment: 'pay',
  routingRule: 'rtr',
  subscription: 'sub',
  dispute: 'dsp',
  bankStatement: 'bst',
  vaultObject: 'vob',
  kycVerification: 'kyc',
  ageVerification: 'avf',
  performer: 'prf',
  payoutMethod: 'pm',
  payout: 'po',
  payoutBatch: 'pob',
  payoutRun: 'prn',
  payoutComplianceHold: 'poh',
  payoutRefusal: 'pox',
  payoutFile: 'pof',
  payoutReturn: 'por',
  mediaItem: 'med',
  mediaUpload: 'upl',
  hashList: 'hl',
  hashListImport: 'hli',
  mediaCase: 'mcs',
} as const

export type IdKind = keyof typeof ID_PREFIXES

const ulid = monotonicFactory()

/** A prefixed, lexicographically sortable id: `crt_01J...` (prefix + ULID). */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${ulid(nowMs)}`
}

/** True when `value` looks like an id of `kind` (prefix + 26 Crockford base32 characters). */
export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(`^${ID_PREFIXES[kind]}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value)
}
