/**
 * What the vault accepts as a document: a closed list of content types, a size ceiling, and a check
 * that the bytes really are what the declared type says (magic bytes). A declared `image/jpeg` that
 * is really HTML or a script would otherwise be stored and later handed back to a browser under
 * the declared type; `nosniff` on the download protects the reader, this check keeps the record clean.
 * @module
 */
import { ProblemError } from '../../edge/problem'

export const DOCUMENT_KINDS = ['id_document_front', 'id_document_back', 'selfie', 'consent', 'model_release', 'depiction_copy', 'other'] as const
export type DocumentKind = (typeof DOCUMENT_KINDS)[number]

export const DOCUMENT_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'video/mp4'] as const
export type DocumentContentType = (typeof DOCUMENT_CONTENT_TYPES)[number]

/** 25 MiB: a phone photo of an ID or a scanned release fits many times; the route body limit is 26 MiB. */
export const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024

/** File extension for the download's `content-disposition`. */
export const EXTENSIONS: Record<DocumentContentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'video/mp4': 'mp4',
}

const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0))
const startsWith = (bytes: Uint8Array, sig: number[], at = 0) => bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b)

/** True when `bytes` begin the way a file of `type` does. */
export function looksLike(type: DocumentContentType, bytes: Uint8Array): boolean {
  switch (type) {
    case 'image/jpeg':
      return startsWith(bytes, [0xff, 0xd8, 0xff])
    case 'image/png':
      return startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    case 'image/webp':
      return startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)
    case 'application/pdf':
      return startsWith(bytes, ascii('%PDF-'))
    case 'video/mp4':
      // ISO BMFF: a box size (4 bytes) then the `ftyp` box type
      return startsWith(bytes, ascii('ftyp'), 4)
  }
}

/** The media type of a Content-Type value, lower case, without parameters. */
export function mediaTypeOf(value: string | null | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase()
}

/**
 * Checks a document before it is sealed; throws a problem naming the field (`header.content-type`
 * and `body` for a raw body, `body.file` for a multipart part). Returns the accepted content type.
 */
export function checkDocument(kind: DocumentKind, declared: string, bytes: Uint8Array, fields: { type: string; bytes: string }): DocumentContentType {
  const type = mediaTypeOf(declared)
  if (!(DOCUMENT_CONTENT_TYPES as readonly string[]).includes(type)) {
    throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', {
      detail: `documents are ${DOCUMENT_CONTENT_TYPES.join(', ')}; got ${type || 'no content type'}`,
      errors: [{ path: fields.type, message: `must be one of ${DOCUMENT_CONTENT_TYPES.join(', ')}` }],
    })
  }
  const accepted = type as DocumentContentType
  if (accepted === 'video/mp4' && kind !== 'depiction_copy') {
    throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', { detail: 'video/mp4 is accepted for depiction copies only', errors: [{ path: fields.type, message: 'video only for kind depiction_copy' }] })
  }
  if (bytes.length > MAX_DOCUMENT_BYTES) throw new ProblemError('PAYLOAD_TOO_LARGE', { detail: `documents are at most ${MAX_DOCUMENT_BYTES} bytes; got ${bytes.length}` })
  if (bytes.length === 0) throw new ProblemError('VALIDATION_FAILED', { detail: 'the document is empty', errors: [{ path: fields.bytes, message: 'is empty' }] })
  if (!looksLike(accepted, bytes)) {
    throw new ProblemError('VALIDATION_FAILED', { detail: `the bytes are not a ${accepted} file`, errors: [{ path: fields.bytes, message: `content does not match ${accepted}` }] })
  }
  return accepted
}
