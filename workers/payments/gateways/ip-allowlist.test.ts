import { describe, expect, it } from 'vitest'
import { compileAllowlist, ipAllowed, parseIp } from './ip-allowlist'
import { CCBILL_WEBHOOK_RANGES } from './ccbill'

describe('ip allowlist', () => {
  const list = compileAllowlist([...CCBILL_WEBHOOK_RANGES, '10.0.0.0/8', '2001:db8::/32', '2a00:1450:4001:81a::200e', '192.0.2.7'])

  it('matches inclusive ranges exactly at their edges', () => {
    expect(ipAllowed('64.38.212.1', list)).toBe(true)
    expect(ipAllowed('64.38.212.254', list)).toBe(true)
    expect(ipAllowed('64.38.212.0', list)).toBe(false)
    expect(ipAllowed('64.38.212.255', list)).toBe(false)
    expect(ipAllowed('64.38.213.10', list)).toBe(false)
  })

  it('matches IPv4 CIDR and single addresses', () => {
    expect(ipAllowed('10.255.255.255', list)).toBe(true)
    expect(ipAllowed('11.0.0.0', list)).toBe(false)
    expect(ipAllowed('192.0.2.7', list)).toBe(true)
    expect(ipAllowed('192.0.2.8', list)).toBe(false)
  })

  it('matches IPv6 CIDR, compressed forms and single addresses', () => {
    expect(ipAllowed('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', list)).toBe(true)
    expect(ipAllowed('2001:0db8::1', list)).toBe(true)
    expect(ipAllowed('2001:db9::', list)).toBe(false)
    expect(ipAllowed('2a00:1450:4001:081a:0000:0000:0000:200e', list)).toBe(true)
    expect(ipAllowed('2a00:1450:4001:81a::200f', list)).toBe(false)
  })

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(ipAllowed('::ffff:64.38.241.9', list)).toBe(true)
    expect(ipAllowed('::ffff:64.38.242.9', list)).toBe(false)
    expect(parseIp('::ffff:10.1.2.3')).toEqual({ version: 4, value: 0x0a010203n })
  })

  it('refuses malformed addresses and rules', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '12345::', 'abc']) expect(ipAllowed(bad, list)).toBe(false)
    expect(() => compileAllowlist(['10.0.0.0/33'])).toThrow()
    expect(() => compileAllowlist(['10.0.0.9-10.0.0.1'])).toThrow()
    expect(() => compileAllowlist(['2001:db8::/129'])).toThrow()
  })

  it('does not let an IPv4 rule match an IPv6 address with the same low bits', () => {
    expect(ipAllowed('::a00:1', compileAllowlist(['10.0.0.0/8']))).toBe(false)
  })
})
