/**
 * Crypto payout addresses against published known-answer vectors:
 * - BIP-173 "Examples" and BIP-350 "Test vectors" (github.com/bitcoin/bips bip-0173.mediawiki,
 *   bip-0350.mediawiki), with the witness programs they decode to;
 * - base58check: the genesis-block coinbase address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa (hash160
 *   62e907b1...), the Bitcoin wiki P2SH example 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy, and the testnet
 *   forms m.../2... (Bitcoin wiki "List of address prefixes");
 * - EIP-55 "Test Cases" (eips.ethereum.org/EIPS/eip-55);
 * - TRON: the USDT TRC-20 contract from payouts.md §5 and the TRON developer docs' example account
 *   TJRabPrwbZy45sbavfcjinPJC18kjpRTv8.
 */
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { decodeBase58Check } from './base58check'
import { decodeBech32, decodeSegwitAddress } from './bech32'
import { detectNetwork, toChecksumAddress, validateCryptoAddress, type CryptoAddressResult } from './crypto'

const btc = (address: string, mainnet = true): CryptoAddressResult => validateCryptoAddress({ asset: 'BTC', network: 'bitcoin', address, mainnet })
const reasonOf = (result: CryptoAddressResult): string => (result.ok ? 'ok' : result.reason)

describe('bech32 / bech32m (BIP-173, BIP-350)', () => {
  it('decodes the BIP-350 valid checksums with the right constant', () => {
    expect(decodeBech32('A1LQFN3A')).toMatchObject({ ok: true, hrp: 'a', encoding: 'bech32m' })
    expect(decodeBech32('a1lqfn3a')).toMatchObject({ ok: true, encoding: 'bech32m' })
    // BIP-173 valid bech32 checksum
    expect(decodeBech32('A12UEL5L')).toMatchObject({ ok: true, hrp: 'a', encoding: 'bech32' })
    expect(decodeBech32('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw')).toMatchObject({ ok: true, hrp: 'abcdef', encoding: 'bech32' })
  })

  it('decodes BIP-173/350 segwit vectors to their witness programs', () => {
    const cases: Array<[string, string[], number, string]> = [
      ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', ['bc'], 0, '751e76e8199196d454941c45d1b3a323f1433bd6'],
      ['tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7', ['tb'], 0, '1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262'],
      ['bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y', ['bc'], 1, '751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6'],
      ['BC1SW50QGDZ25J', ['bc'], 16, '751e'],
      ['bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs', ['bc'], 2, '751e76e8199196d454941c45d1b3a323'],
      ['tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c', ['tb'], 1, '000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433'],
      ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', ['bc'], 1, '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'],
    ]
    for (const [address, hrps, version, program] of cases) {
      const decoded = decodeSegwitAddress(address, hrps)
      expect(decoded.ok, address).toBe(true)
      if (decoded.ok) {
        expect(decoded.version, address).toBe(version)
        expect(bytesToHex(decoded.program), address).toBe(program)
      }
    }
  })

  it('refuses the BIP-350 invalid segwit addresses, each for its own reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut', /human-readable part 'tc'/],
      ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd', /v1 must use the bech32m checksum, not bech32/],
      ['tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf', /v2 must use the bech32m checksum/],
      ['BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL', /v16 must use the bech32m checksum/],
      ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh', /v0 must use the bech32 checksum, not bech32m/],
      ['tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47', /v0 must use the bech32 checksum, not bech32m/],
      ['bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4', /'o' is not in the bech32 alphabet/],
      ['BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R', /witness version 17/],
      ['bc1pw5dgrnzv', /1 bytes/],
      ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav', /41 bytes/],
      ['BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P', /v0 program of 16 bytes/],
      ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq', /mixed upper and lower case/],
      ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf', /padding/],
      ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j', /padding/],
      ['bc1gmk9yu', /no witness version/],
    ]
    for (const [address, reason] of cases) {
      const decoded = decodeSegwitAddress(address, ['bc', 'tb'])
      expect(decoded.ok, address).toBe(false)
      if (!decoded.ok) expect(decoded.reason, address).toMatch(reason)
    }
  })
})

describe('BTC payout addresses', () => {
  it('accepts mainnet P2PKH and P2SH with the right version byte and checksum', () => {
    expect(btc('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')).toEqual({ ok: true, address: '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', kind: 'p2pkh', testnet: false })
    const genesis = decodeBase58Check('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')
    expect(genesis.ok && bytesToHex(genesis.payload)).toBe('0062e907b15cbf27d5425399ebf6f0fb50ebb88f18')
    expect(btc('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy')).toMatchObject({ ok: true, kind: 'p2sh' })
  })

  it('accepts bech32 v0 P2WPKH / P2WSH and bech32m taproot, stored lowercase', () => {
    expect(btc('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4')).toEqual({ ok: true, address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', kind: 'p2wpkh', testnet: false })
    // BIP-173 "Examples": mainnet P2WSH
    expect(btc('bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3')).toMatchObject({ ok: true, kind: 'p2wsh' })
    expect(btc('bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0')).toMatchObject({ ok: true, kind: 'p2tr' })
  })

  it('refuses mixed case, the wrong checksum constant, a corrupted checksum and unused witness versions', () => {
    expect(reasonOf(btc('bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'))).toMatch(/mixed upper and lower case/)
    expect(reasonOf(btc('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh'))).toMatch(/v0 must use the bech32 checksum/)
    expect(reasonOf(btc('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5'))).toMatch(/checksum does not match/)
    expect(reasonOf(btc('bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs'))).toMatch(/witness v2 .* not a spendable address type/)
  })

  it('refuses testnet addresses (tb1, m/n, 2) on mainnet and accepts them when mainnet is false', () => {
    const testnet = [
      'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
      'tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47zagq',
      'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn',
      'n3GNqMveyvaPvUbH469vDRadqpJMPc84JA',
      '2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc',
    ]
    for (const address of testnet) {
      expect(reasonOf(btc(address)), address).toMatch(/testnet Bitcoin address refused/)
      expect(btc(address, false), address).toMatchObject({ ok: true, testnet: true })
    }
  })

  it('refuses a corrupted base58check address and a TRON address given for Bitcoin', () => {
    expect(reasonOf(btc('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb'))).toMatch(/checksum does not match/)
    expect(reasonOf(btc('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0'))).toMatch(/outside the base58 alphabet/)
    expect(reasonOf(btc('TJRabPrwbZy45sbavfcjinPJC18kjpRTv8'))).toBe('this address is on TRON, but BTC is to be paid on Bitcoin')
  })
})

describe('Ethereum / ERC-20 (EIP-55)', () => {
  const eth = (address: string, asset: 'ETH' | 'USDT' | 'USDC' = 'ETH') => validateCryptoAddress({ asset, network: 'ethereum', address, mainnet: true })
  // EIP-55 "Test Cases": all caps, all lower, normal
  const vectors = [
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
  ]

  it('computes the EIP-55 form of every test case from its lowercase hex', () => {
    for (const vector of vectors) expect(toChecksumAddress(vector.toLowerCase())).toBe(vector)
  })

  it('accepts the EIP-55 vectors for ETH and ERC-20 tokens', () => {
    for (const vector of vectors) {
      expect(eth(vector), vector).toMatchObject({ ok: true, address: vector, kind: 'ethereum' })
      expect(eth(vector, 'USDT').ok, vector).toBe(true)
      expect(eth(vector, 'USDC').ok, vector).toBe(true)
    }
    expect(eth('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')).toMatchObject({ checksum: 'eip55' })
  })

  it('accepts all-lowercase / all-uppercase hex as unchecksummed and stores the EIP-55 form', () => {
    expect(eth('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed')).toEqual({
      ok: true,
      address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      kind: 'ethereum',
      checksum: 'none',
      testnet: false,
    })
    expect(eth('0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359')).toMatchObject({ ok: true, address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', checksum: 'none' })
  })

  it('refuses a mixed-case address with one letter flipped, bad lengths and token contracts', () => {
    expect(reasonOf(eth('0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'))).toMatch(/EIP-55 checksum does not match/)
    expect(reasonOf(eth('0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d35'))).toMatch(/40 hex digits/)
    expect(reasonOf(eth('5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'))).toMatch(/40 hex digits/)
    expect(reasonOf(eth('0xdAC17F958D2ee523a2206206994597C13D831ec7', 'USDT'))).toMatch(/token contract address/)
    expect(reasonOf(eth('0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', 'USDC'))).toMatch(/token contract address/)
  })
})

describe('TRON / TRC-20', () => {
  const tron = (address: string) => validateCryptoAddress({ asset: 'USDT', network: 'tron', address, mainnet: true })

  it('accepts a TRON account and checks the 0x41 version byte of the base58check payload', () => {
    expect(tron('TJRabPrwbZy45sbavfcjinPJC18kjpRTv8')).toEqual({ ok: true, address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8', kind: 'tron', testnet: false })
    const usdt = decodeBase58Check('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t')
    expect(usdt.ok && usdt.payload.length).toBe(21)
    expect(usdt.ok && usdt.payload[0]).toBe(0x41)
  })

  it('refuses a corrupted TRON address, a wrong length and the USDT contract itself', () => {
    expect(reasonOf(tron('TJRabPrwbZy45sbavfcjinPJC18kjpRTv9'))).toMatch(/checksum does not match/)
    expect(reasonOf(tron('TJRabPrwbZy45sbavfcjinPJC18kjpRTv'))).toMatch(/34 base58 characters/)
    expect(reasonOf(tron('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'))).toMatch(/token contract address/)
  })
})

describe('asset / network combinations', () => {
  it('refuses a TRON address for an ERC-20 payout and an Ethereum address for TRC-20, naming both networks', () => {
    expect(reasonOf(validateCryptoAddress({ asset: 'USDT', network: 'ethereum', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8', mainnet: true }))).toBe(
      'this address is on TRON, but USDT is to be paid on Ethereum',
    )
    expect(reasonOf(validateCryptoAddress({ asset: 'USDT', network: 'tron', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', mainnet: true }))).toBe(
      'this address is on Ethereum, but USDT is to be paid on TRON',
    )
    expect(reasonOf(validateCryptoAddress({ asset: 'ETH', network: 'ethereum', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet: true }))).toBe(
      'this address is on Bitcoin, but ETH is to be paid on Ethereum',
    )
  })

  it('refuses assets on networks they are not paid out on', () => {
    expect(reasonOf(validateCryptoAddress({ asset: 'BTC', network: 'ethereum', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', mainnet: true }))).toBe(
      'BTC is not paid out on Ethereum (supported: Bitcoin)',
    )
    expect(reasonOf(validateCryptoAddress({ asset: 'USDC', network: 'tron', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8', mainnet: true }))).toMatch(/USDC is not paid out on TRON/)
  })

  it('detects the network of an address, or none', () => {
    expect(detectNetwork('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy')).toBe('bitcoin')
    expect(detectNetwork('0x52908400098527886E0F7030069857D2E4169EE7')).toBe('ethereum')
    expect(detectNetwork('TJRabPrwbZy45sbavfcjinPJC18kjpRTv8')).toBe('tron')
    expect(detectNetwork('not an address')).toBeNull()
  })
})
