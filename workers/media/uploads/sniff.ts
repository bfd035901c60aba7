/**
 * What an upload really is, read from its first bytes (magic numbers), never from its name or the
 * client's claim. Hand-written because the few signatures we accept are a dozen lines, and the npm
 * sniffers (file-type and friends) are Node-stream based and far larger than the need.
 *
 * Accepted: JPEG (FF D8 FF), PNG (89 50 4E 47 0D 0A 1A 0A), ISO BMFF video (`ftyp` box with a video
 * brand: MP4, QuickTime), EBML (Matroska / WebM, by DocType). HEIF/AVIF also start with `ftyp` but
 * are still images we cannot decode: refused.
 * @module
 */

/** The types an upload may claim (tus `filetype`, multipart `type`). */
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska'] as const
export type UploadType = (typeof UPLOAD_TYPES)[number]

/** Bytes needed to decide (the EBML DocType sits within the first few dozen bytes). */
export const SNIFF_BYTES = 64

export function isUploadType(value: string): value is UploadType {
  return (UPLOAD_TYPES as readonly string[]).includes(value)
}

export function kindOf(type: UploadType): 'image' | 'video' {
  return type.startsWith('image/') ? 'image' : 'video'
}

const VIDEO_BRANDS = new Set(['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'mp71', 'avc1', 'M4V ', 'M4VH', 'M4VP', 'qt  ', 'dash', 'mmp4', 'MSNV', 'XAVC', 'f4v ', '3gp4', '3gp5', '3gp6', '3g2a'])
const IMAGE_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'avif', 'avis'])

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b)
}

/** The ISO BMFF `ftyp` box: major brand and compatible brands. */
function ftypBrands(bytes: Uint8Array): string[] | null {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return null
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
  const end = Math.min(bytes.length, size >= 16 ? size : 16)
  const brands = [ascii(bytes, 8, 12)]
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4))
  return brands
}

/** The EBML header's DocType (`webm`, `matroska`), when it is within the bytes given. */
function ebmlDocType(bytes: Uint8Array): string | null {
  if (!startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return null
  // DocType element id 0x4282, then a one-byte EBML size (0x80 | length) in every real file
  for (let i = 4; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0x42 && bytes[i + 1] === 0x82) {
      const len = bytes[i + 2]! & 0x7f
      if ((bytes[i + 2]! & 0x80) === 0 || i + 3 + len > bytes.length) return null
      return ascii(bytes, i + 3, i + 3 + len)
    }
  }
  return null
}

/**
 * The type of `head` (the first bytes of a file, at least SNIFF_BYTES when the file is that long),
 * or null when it is none of the accepted types.
 * @example sniff(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])) // 'image/jpeg'
 */
export function sniff(head: Uint8Array): UploadType | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  const brands = ftypBrands(head)
  if (brands) {
    if (IMAGE_BRANDS.has(brands[0]!)) return null
    if (brands[0] === 'qt  ') return 'video/quicktime'
    return brands.some((b) => VIDEO_BRANDS.has(b)) ? 'video/mp4' : null
  }
  const docType = ebmlDocType(head)
  if (docType === 'webm') return 'video/webm'
  if (docType === 'matroska') return 'video/x-matroska'
  return null
}

/** Claims that name the same container family count as agreeing (an `.mov` sent as video/mp4 is still ISO BMFF). */
const FAMILY: Record<UploadType, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'video/mp4': 'bmff',
  'video/quicktime': 'bmff',
  'video/webm': 'ebml',
  'video/x-matroska': 'ebml',
}

export type SniffVerdict = { ok: true; type: UploadType } | { ok: false; detail: string }

/** Checks `head` against what the client claimed. */
export function checkClaim(head: Uint8Array, claimed: UploadType): SniffVerdict {
  const found = sniff(head)
  if (!found) return { ok: false, detail: `the bytes are not ${claimed} (nor any accepted type: ${UPLOAD_TYPES.join(', ')})` }
  if (FAMILY[found] !== FAMILY[claimed]) return { ok: false, detail: `the bytes are ${found}, not the claimed ${claimed}` }
  return { ok: true, type: found }
}
