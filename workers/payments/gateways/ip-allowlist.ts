/**
 * Exact IPv4/IPv6 matching against CIDR blocks, inclusive ranges ("a-b") and single addresses.
 * Addresses become BigInts so v4 and v6 share one comparison; IPv4-mapped IPv6
 * (::ffff:1.2.3.4) is matched as the IPv4 address it carries.
 */

export interface IpAddress {
  version: 4 | 6
  value: bigint
}

interface IpRange {
  version: 4 | 6
  first: bigint
  last: bigint
}

export type Allowlist = readonly IpRange[]

function parseV4(text: string): bigint | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  let value = 0n
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return null
    const octet = Number(part)
    if (octet > 255) return null
    value = (value << 8n) | BigInt(octet)
  }
  return value
}

function parseV6(text: string): bigint | null {
  let head = text
  let tailV4: bigint | null = null
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1))
    if (tailV4 === null) return null
    head = `${text.slice(0, lastColon + 1)}0:0`
  }
  const halves = head.split('::')
  if (halves.length > 2) return null
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':'))
  const left = groupsOf(halves[0] ?? '')
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : []
  const missing = 8 - left.length - right.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right]
  let value = 0n
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null
    value = (value << 16n) | BigInt(parseInt(group, 16))
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4
  return value
}

const V4_MAPPED_PREFIX = 0xffffn << 32n

export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim()
  if (trimmed.includes(':')) {
    const value = parseV6(trimmed.replace(/^\[|\]$/g, '').replace(/%.*$/, ''))
    if (value === null) return null
    if (value >> 32n === 0xffffn) return { version: 4, value: value - V4_MAPPED_PREFIX }
    return { version: 6, value }
  }
  const value = parseV4(trimmed)
  return value === null ? null : { version: 4, value }
}

function parseRule(rule: string): IpRange {
  const text = rule.trim()
  const dash = text.indexOf('-')
  if (dash > 0) {
    const first = parseIp(text.slice(0, dash))
    const last = parseIp(text.slice(dash + 1))
    if (!first || !last || first.version !== last.version || first.value > last.value) throw new SyntaxError(`bad IP range ${rule}`)
    return { version: first.version, first: first.value, last: last.value }
  }
  const [addressText, prefixText] = text.split('/')
  const address = parseIp(addressText ?? '')
  if (!address) throw new SyntaxError(`bad IP rule ${rule}`)
  const bits = address.version === 4 ? 32 : 128
  // a mapped v6 rule with a v6 prefix length is re-expressed in v4 bits
  const mappedV6 = address.version === 4 && (addressText ?? '').includes(':')
  let prefix = prefixText === undefined ? bits : Number(prefixText)
  if (mappedV6 && prefixText !== undefined) prefix -= 96
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new SyntaxError(`bad prefix in ${rule}`)
  }
  const hostBits = BigInt(bits - prefix)
  const first = (address.value >> hostBits) << hostBits
  return { version: address.version, first, last: first | ((1n << hostBits) - 1n) }
}

/** Compile rules once (at config load); throws on a malformed rule so bad config fails loudly. */
export function compileAllowlist(rules: readonly string[]): Allowlist {
  return rules.map(parseRule)
}

export function ipAllowed(ip: string, allowlist: Allowlist): boolean {
  const address = parseIp(ip)
  if (!address) return false
  return allowlist.some((range) => range.version === address.version && address.value >= range.first && address.value <= range.last)
}
