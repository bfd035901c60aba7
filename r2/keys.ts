/**
 * R2 bucket layout: every object key is built here, so the layout is documented in one place and
 * a key can never be assembled by string concatenation somewhere else.
 *
 * | bucket  | prefix                                   | holds                                           |
 * |---------|------------------------------------------|-------------------------------------------------|
 * | MEDIA   | `originals/{brand}/{creatorId}/{mediaId}`| uploaded originals, private until published     |
 * | MEDIA   | `renditions/{mediaId}/{variant}`         | derived images/segments (A/B watermark variants)|
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

export const mediaKeys = {
  original: (brand: string, creatorId: string, mediaId: string) => `originals/${part('brand', brand)}/${part('creatorId', creatorId)}/${part('mediaId', mediaId)}`,
  rendition: (mediaId: string, variant: string) => `renditions/${part('mediaId', mediaId)}/${part('variant', variant)}`,
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
