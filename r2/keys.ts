/**
 * R2 bucket layout: every object key is built here, so the layout is documented in one place and
 * a key can never be assembled by string concatenation somewhere else.
 *
 * | bucket  | prefix                                   | holds                                           |
 * |---------|------------------------------------------|-------------------------------------------------|
 * | MEDIA   | `originals/{brand}/{creatorId}/{mediaId}`| uploaded originals, private until published     |
 * | MEDIA   | `renditions/{mediaId}/{variant}`         | derived images                                  |
 * | MEDIA   | `renditions/{mediaId}/hls/{init.mp4,playlist.m3u8}`, `.../hls/{a,b}/{index:05}.m4s` | the packager's HLS output: one playlist, two variants of every segment |
 * | MEDIA   | `renditions/{mediaId}/frames/{index:05}.jpg` | keyframes for video fingerprints            |
 * | MEDIA   | `renditions/{mediaId}/display/{sha256}.jpg` | an image above 8 MP scaled down by the packager: fingerprinted and marked instead of the original |
 * | MEDIA   | `renditions/{mediaId}/marked/{serial}.jpg` | delivered copies, one per forensic mark (cache) |
 * | MEDIA   | `uploads/{uploadId}/spill`               | a tus upload's bytes short of a full part       |
 * | EXPORTS | `media/hash-lists/{listId}/{sha256}.txt`  | hash-list files as imported                     |
 * | VAULT, VAULT_EU | `{recordType}/{recordId}/{vaultObjectId}` | every sealed object (workers/vault/store.ts; r2/vault/storage-schema.md): `kyc_verification/…`, `performer_record/…`, `inspection_export/{brand or all}/…` |
 * | EXPORTS | `audit/{yyyy}/{mm}/{segment}`            | sealed audit-log segments                       |
 * | EXPORTS | `audit/checkpoints/{size:012}.jws`        | signed audit checkpoints (tree size, head hash) |
 * | EXPORTS | `reports/{kind}/{id}`                    | statements, inspection exports, bank files      |
 * | EXPORTS | `payments/postbacks/{gateway}/{yyyy}/{mm}/{dd}/{sha256}.json` | raw gateway postbacks (evidence; content-addressed) |
 * | EXPORTS | `payments/bank-statements/{yyyy}/{mm}/{dd}/{statementId}.{xml,csv}` | imported bank statements as received |
 * | EXPORTS | `payments/disputes/{disputeId}/evidence/{submissionId}.json` | representment bundles, one per submission |
 * | EXPORTS | `config/age-verification/v{version:06}.json` | age-verification settings versions (append-only) |
 * | EXPORTS | `payouts/files/{yyyy}/{mm}/{dd}/{fileId}.{ach,xml,csv}` | payout bank files (NACHA, pain.001, wire/check registers), sha256 in `payout_files` |
 * | EXPORTS | `payouts/returns/{ach,sepa}/{yyyy}/{mm}/{dd}/{sha256}.{ach,xml}` | ACH return files and pain.002 reports as imported (content-addressed) |
 * | EXPORTS | `sandbox-gateway/…`, `sandbox-crypto/…`, `sandbox-kyc/sessions/…` | the sandbox providers' own records (outside production) |
 * @module
 */

const SAFE = /^[A-Za-z0-9_-]{1,64}$/

const utcDay = (atMs: number) => new Date(atMs).toISOString().slice(0, 10).replaceAll('-', '/')

function part(name: string, value: string): string {
  if (!SAFE.test(value)) throw new TypeError(`r2 key part ${name} must match ${SAFE}: got ${JSON.stringify(value)}`)
  return value
}

const pad5 = (n: number) => {
  if (!Number.isInteger(n) || n < 0 || n > 99_999) throw new TypeError(`r2 key index must be an integer 0-99999: got ${n}`)
  return String(n).padStart(5, '0')
}

export const mediaKeys = {
  original: (brand: string, creatorId: string, mediaId: string) => `originals/${part('brand', brand)}/${part('creatorId', creatorId)}/${part('mediaId', mediaId)}`,
  rendition: (mediaId: string, variant: string) => `renditions/${part('mediaId', mediaId)}/${part('variant', variant)}`,
  /** a tus upload's bytes received after the last full part (R2 parts must be equal-sized) */
  uploadSpill: (uploadId: string) => `uploads/${part('uploadId', uploadId)}/spill`,
  /** the packager's HLS output shared by both variants: `init.mp4`, `playlist.m3u8` */
  hlsShared: (mediaId: string, file: 'init.mp4' | 'playlist.m3u8') => `renditions/${part('mediaId', mediaId)}/hls/${file}`,
  /** one variant (A or B, different imperceptible marks) of one segment */
  hlsSegment: (mediaId: string, variant: 'a' | 'b', index: number) => `renditions/${part('mediaId', mediaId)}/hls/${variant}/${pad5(index)}.m4s`,
  /** a keyframe the packager extracted for fingerprinting (1 per second) */
  frame: (mediaId: string, index: number) => `renditions/${part('mediaId', mediaId)}/frames/${pad5(index)}.jpg`,
  /**
   * the packager's display rendition of an image too large to decode in a Worker; content-addressed
   * so two racing uploads never overwrite each other's bytes (media_items.display_key names the one kept)
   */
  display: (mediaId: string, sha256Hex: string) => `renditions/${part('mediaId', mediaId)}/display/${part('sha256', sha256Hex)}.jpg`,
  /** a delivered copy carrying one mark (cached: marking once per item and viewer) */
  markedCopy: (mediaId: string, serial: number) => `renditions/${part('mediaId', mediaId)}/marked/${part('serial', String(serial))}.jpg`,
}

export const hashListKeys = {
  /** a hash-list file as received (EXPORTS; content-addressed: the same file imported twice is one object) */
  importFile: (listId: string, sha256Hex: string) => `media/hash-lists/${part('listId', listId)}/${part('sha256', sha256Hex)}.txt`,
}

export const vaultKeys = {
  /** every sealed object: the record it belongs to, then its own id (both authenticated in the ciphertext) */
  object: (recordType: string, recordId: string, objectId: string) => `${part('recordType', recordType)}/${part('recordId', recordId)}/${part('objectId', objectId)}`,
}

export const AUDIT_CHECKPOINT_PREFIX = 'audit/checkpoints/'

export const exportKeys = {
  auditSegment: (atMs: number, segment: string) => {
    const d = new Date(atMs)
    return `audit/${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${part('segment', segment)}`
  },
  /** zero-padded so a listing returns checkpoints in order */
  auditCheckpoint: (size: number) => `${AUDIT_CHECKPOINT_PREFIX}${String(size).padStart(12, '0')}.jws`,
  report: (kind: string, id: string) => `reports/${part('kind', kind)}/${part('id', id)}`,
}

export const paymentKeys = {
  /** content-addressed: twenty copies of one postback are one object */
  postbackEvidence: (gateway: string, atMs: number, sha256Hex: string) => `payments/postbacks/${part('gateway', gateway)}/${utcDay(atMs)}/${part('sha256', sha256Hex)}.json`,
  bankStatement: (atMs: number, statementId: string, format: 'csv' | 'camt053') => `payments/bank-statements/${utcDay(atMs)}/${part('statementId', statementId)}.${format === 'csv' ? 'csv' : 'xml'}`,
  disputeEvidence: (disputeId: string, submissionId: string) => `payments/disputes/${part('disputeId', disputeId)}/evidence/${part('submissionId', submissionId)}.json`,
}

/** Payout bank files and the bank's answers to them (workers/payouts/files, workers/payouts/returns). */
export const payoutFileKeys = {
  /** one object per `payout_files` row; the day is the file's creation day (UTC) */
  file: (atMs: number, fileId: string, extension: 'ach' | 'xml' | 'csv') => `payouts/files/${utcDay(atMs)}/${part('fileId', fileId)}.${extension}`,
  /** content-addressed: the same return file imported twice is one object */
  returnFile: (source: 'ach' | 'sepa', atMs: number, sha256Hex: string) => `payouts/returns/${source}/${utcDay(atMs)}/${part('sha256', sha256Hex)}.${source === 'ach' ? 'ach' : 'xml'}`,
}
