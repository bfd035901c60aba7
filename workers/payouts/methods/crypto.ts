/**
 * Crypto payout addresses, checked against the (asset, network) pair they are stored with
 * (payouts.md §5): BTC legacy base58check / segwit bech32 / taproot bech32m, Ethereum hex with
 * EIP-55, TRON base58check. No address library is installed here; the encodings are in
 * base58check.ts and bech32.ts and the hashes come from @noble/hashes.
 *
 * EIP-55 decision: payouts.md §5 makes only "mixed case with a wrong checksum" invalid, and EIP-55
 * itself treats all-lowercase / all-uppercase hex as carrying no checksum. So those are accepted,
 * reported as `checksum: 'none'` (a UI can ask the creator to double-check) and stored in their
 * EIP-55 form; any mixed-case address must match its checksum exactly.
 * @module
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { z } from 'zod'
import { decodeBase58Check } from './base58check'
import { decodeSegwitAddress } from './bech32'

export const CRYPTO_ASSETS = ['BTC', 'ETH', 'USDT', 'USDC'] as const
export type CryptoAsset = (typeof CRYPTO_ASSETS)[number]
export const CRYPTO_NETWORKS = ['bitcoin', 'ethereum', 'tron'] as const
export type CryptoNetwork = (typeof CRYPTO_NETWORKS)[number]

/**
 * Which networks each asset is paid out on. USDC is Ethereum-only: payouts.md lists a TRON USDC
 * contract, but the payout brief names USDC on Ethereum only, so TRON USDC is not offered.
 */
export const ASSET_NETWORKS: Readonly<Record<CryptoAsset, readonly CryptoNetwork[]>> = {
  BTC: ['bitcoin'],
  ETH: ['ethereum'],
  USDT: ['ethereum', 'tron'],
  USDC: ['ethereum'],
}

const NETWORK_NAMES: Readonly<Record<CryptoNetwork, string>> = { bitcoin: 'Bitcoin', ethereum: 'Ethereum', tron: 'TRON' }

/**
 * Token contracts (payouts.md §5). Paying a token to its own contract address loses it, and a
 * contract address is what people most often paste by mistake, so these are refused as payees.
 */
const TOKEN_CONTRACTS: ReadonlySet<string> = new Set([
  '0xdac17f958d2ee523a2206206994597c13d831ec7', // USDT on Ethereum
  '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', // USDC on Ethereum
  'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', // USDT on TRON
  'TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8', // USDC on TRON
])

export type AddressKind = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr' | 'ethereum' | 'tron'

export type CryptoAddressResult =
  | {
      ok: true
      /** the form to store: bech32 lowercased, Ethereum in EIP-55 case, base58 unchanged */
      address: string
      kind: AddressKind
      /** Ethereum only: whether the input carried an EIP-55 checksum (it matched if so) */
      checksum?: 'eip55' | 'none'
      testnet: boolean
    }
  | { ok: false; reason: string }

export const CryptoAddressInput = z.object({
  asset: z.enum(CRYPTO_ASSETS),
  network: z.enum(CRYPTO_NETWORKS),
  address: z.string().trim().min(1).max(100),
  /** true for real payouts: testnet addresses are refused */
  mainnet: z.boolean(),
})
export type CryptoAddressInput = z.infer<typeof CryptoAddressInput>

type Checked = Extract<CryptoAddressResult, { ok: true }> | { ok: false; reason: string }

function checkBitcoin(address: string): Checked {
  if (/^(bc|tb|bcrt)1/i.test(address)) {
    const segwit = decodeSegwitAddress(address, ['bc', 'tb'])
    if (!segwit.ok) return { ok: false, reason: `not a valid segwit address: ${segwit.reason}` }
    const { version, program } = segwit
    // Outputs of other witness versions / lengths are valid encodings (BIP-350 vectors) but carry no
    // spending rules yet: anyone could take a payout sent there, so only v0 and 32-byte v1 are paid.
    if (version > 1 || (version === 1 && program.length !== 32)) {
      return { ok: false, reason: `witness v${version} with a ${program.length}-byte program is not a spendable address type yet` }
    }
    const kind: AddressKind = version === 0 ? (program.length === 20 ? 'p2wpkh' : 'p2wsh') : 'p2tr'
    return { ok: true, address: address.toLowerCase(), kind, testnet: segwit.hrp === 'tb' }
  }
  const decoded = decodeBase58Check(address)
  if (!decoded.ok) return { ok: false, reason: `not a valid Bitcoin address: ${decoded.reason}` }
  if (decoded.payload.length !== 21) return { ok: false, reason: `not a valid Bitcoin address: ${decoded.payload.length - 1}-byte hash (20 expected)` }
  // version bytes: 0x00 P2PKH '1', 0x05 P2SH '3' (BIP-13); testnet 0x6f 'm'/'n', 0xc4 '2'
  switch (decoded.payload[0]) {
    case 0x00:
      return { ok: true, address, kind: 'p2pkh', testnet: false }
    case 0x05:
      return { ok: true, address, kind: 'p2sh', testnet: false }
    case 0x6f:
      return { ok: true, address, kind: 'p2pkh', testnet: true }
    case 0xc4:
      return { ok: true, address, kind: 'p2sh', testnet: true }
    default:
      return { ok: false, reason: `not a Bitcoin address: version byte 0x${decoded.payload[0]!.toString(16).padStart(2, '0')}` }
  }
}

/** EIP-55: hex letter i is uppercase when nibble i of keccak-256(lowercase hex) is >= 8. */
export function toChecksumAddress(address: string): string {
  const hex = address.slice(2).toLowerCase()
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(hex)))
  let out = '0x'
  for (let i = 0; i < hex.length; i++) out += parseInt(hash[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i]!
  return out
}

function checkEthereum(address: string): Checked {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return { ok: false, reason: 'not an Ethereum address: expected 0x followed by 40 hex digits' }
  const checksummed = toChecksumAddress(address)
  const body = address.slice(2)
  const unchecksummed = body === body.toLowerCase() || body === body.toUpperCase()
  if (!unchecksummed && address !== checksummed) return { ok: false, reason: 'EIP-55 checksum does not match (check the upper/lower case letters)' }
  return { ok: true, address: checksummed, kind: 'ethereum', checksum: unchecksummed ? 'none' : 'eip55', testnet: false }
}

function checkTron(address: string): Checked {
  if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(address)) return { ok: false, reason: "not a TRON address: expected 34 base58 characters starting with 'T'" }
  const decoded = decodeBase58Check(address)
  if (!decoded.ok) return { ok: false, reason: `not a valid TRON address: ${decoded.reason}` }
  if (decoded.payload.length !== 21 || decoded.payload[0] !== 0x41) return { ok: false, reason: 'not a TRON address: payload must be 21 bytes starting 0x41' }
  return { ok: true, address, kind: 'tron', testnet: false }
}

const CHECKERS: Readonly<Record<CryptoNetwork, (address: string) => Checked>> = {
  bitcoin: checkBitcoin,
  ethereum: checkEthereum,
  tron: checkTron,
}

/** The network an address is valid on, if any: used only to word a mismatch clearly. */
export function detectNetwork(address: string): CryptoNetwork | null {
  for (const network of CRYPTO_NETWORKS) if (CHECKERS[network](address).ok) return network
  return null
}

/** Validates an address for the (asset, network) it will be paid on. */
export function validateCryptoAddress(input: CryptoAddressInput): CryptoAddressResult {
  const { asset, network, mainnet } = input
  const address = input.address.trim()
  if (!ASSET_NETWORKS[asset].includes(network)) {
    return { ok: false, reason: `${asset} is not paid out on ${NETWORK_NAMES[network]} (supported: ${ASSET_NETWORKS[asset].map((n) => NETWORK_NAMES[n]).join(', ')})` }
  }
  const result = CHECKERS[network](address)
  if (!result.ok) {
    const actual = detectNetwork(address)
    if (actual !== null && actual !== network) {
      return { ok: false, reason: `this address is on ${NETWORK_NAMES[actual]}, but ${asset} is to be paid on ${NETWORK_NAMES[network]}` }
    }
    return result
  }
  if (mainnet && result.testnet) return { ok: false, reason: `testnet ${NETWORK_NAMES[network]} address refused for a mainnet payout` }
  if (TOKEN_CONTRACTS.has(network === 'ethereum' ? result.address.toLowerCase() : result.address)) {
    return { ok: false, reason: 'this is a token contract address, not a wallet: funds sent to it are lost' }
  }
  return result
}
