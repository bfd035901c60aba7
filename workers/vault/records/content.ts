/**
 * What a 2257 performer record holds (compliance.md §1, R1-R7) and the rules a record must satisfy
 * before it is sealed: an adult on every production date, an ID that was valid when examined and is
 * acceptable under 75.1(b) (R3), every name ever used (R4), the primary producer for a secondary
 * producer's record (R7). The sealed JSON is exactly `PerformerRecordContent`.
 * @module
 */
import { z } from '@hono/zod-openapi'
import { ProblemError, type FieldError } from '../../edge/problem'

const IsoDate = z.iso.date()
const Country = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, upper case')
const Name = z.string().trim().min(1).max(200)

/** The United States, its States and territories (75.1(b): "a United States ... or State government"). */
export const US_JURISDICTIONS = new Set(['US', 'PR', 'GU', 'VI', 'AS', 'MP', 'UM'])

export const LegalName = z.object({ first: Name, middle: z.string().trim().max(200).nullable().default(null), last: Name }).openapi('PerformerLegalName')

export const ID_TYPES = ['passport', 'passport_card', 'drivers_license', 'state_id', 'military_id', 'permanent_resident_card', 'foreign_passport', 'foreign_national_id'] as const
export const COPY_SIDES = ['front', 'back', 'additional_picture_id'] as const

/** A copy of the ID: a vault object already uploaded (e.g. through /api/vault/documents), or small bytes sealed here. */
export const CopyInput = z
  .union([
    z.object({ side: z.enum(COPY_SIDES), object_id: z.string().regex(/^vob_[0-9A-HJKMNP-TV-Z]{26}$/) }).strict(),
    z.object({ side: z.enum(COPY_SIDES), content_type: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/), content_base64: z.string().min(4).max(200_000) }).strict(),
  ])
  .openapi('PerformerIdCopyInput')

/** A copy as sealed into the record: the vault object and its integrity. */
export const StoredCopy = z.object({ side: z.enum(COPY_SIDES), object_id: z.string(), sha256: z.string(), content_type: z.string(), byte_length: z.number().int() })
export type StoredCopy = z.infer<typeof StoredCopy>

const idDocumentFields = {
  type: z.enum(ID_TYPES),
  /** the issuing authority, e.g. "California DMV" */
  issuer: Name,
  issuer_country: Country,
  number: z.string().trim().min(1).max(100),
  /** null only for IDs that do not expire */
  expires_on: IsoDate.nullable(),
  /** 75.2(a)(1): when the examined ID has no recent photo, a further picture ID copy is required */
  has_recent_photo: z.boolean(),
  examined_by: Name,
  examined_at: z.iso.datetime({ offset: true }),
}

export const IdDocumentInput = z.object({ ...idDocumentFields, copies: z.array(CopyInput).min(1).max(6) }).openapi('PerformerIdDocumentInput')
export const IdDocument = z.object({ ...idDocumentFields, copies: z.array(StoredCopy).min(1) })

/** R3 needs both locations: a foreign ID only when performer and producer are both outside the US. */
export const Locations = z.object({ performer_country: Country, producer_country: Country }).openapi('PerformerLocations')
export const Producer = z.object({ name: Name, address: z.string().trim().min(5).max(500) }).openapi('PrimaryProducer')

const contentFields = {
  legal_name: LegalName,
  date_of_birth: IsoDate,
  /** every other name ever used: mandatory, may be empty (R4) */
  aliases: z.array(Name).max(200),
  locations: Locations,
  producer_role: z.enum(['primary', 'secondary']),
  /** required for a secondary producer (R7) */
  primary_producer: Producer.nullable().default(null),
}

export const ContentInput = z.object({ ...contentFields, id_document: IdDocumentInput }).strict().openapi('PerformerRecordInput')
export type ContentInput = z.infer<typeof ContentInput>

export const PerformerRecordContent = z.object({ ...contentFields, id_document: IdDocument })
export type PerformerRecordContent = z.infer<typeof PerformerRecordContent>

/** A patch: any top-level field replaced, and aliases only ever added. */
export const ContentPatch = z
  .object({
    legal_name: LegalName.optional(),
    date_of_birth: IsoDate.optional(),
    add_aliases: z.array(Name).max(200).optional(),
    locations: Locations.optional(),
    producer_role: z.enum(['primary', 'secondary']).optional(),
    primary_producer: Producer.nullable().optional(),
    id_document: IdDocumentInput.optional(),
  })
  .strict()
  .openapi('PerformerRecordPatch')
export type ContentPatch = z.infer<typeof ContentPatch>

/** Normalised form of a name for comparison and the blind index: NFKC, case-folded, whitespace collapsed. */
export function normaliseName(name: string): string {
  // toUpperCase().toLowerCase() approximates Unicode full case folding (ß -> ss) without a table
  return name.normalize('NFKC').toUpperCase().toLowerCase().replace(/\s+/gu, ' ').trim()
}

export function displayName(n: z.infer<typeof LegalName>): string {
  return [n.first, n.middle, n.last].filter(Boolean).join(' ')
}

/** Whole years between a date of birth and a day (both ISO dates): the legal age on that day. */
export function ageOn(dob: string, day: string): number {
  const [by, bm, bd] = dob.split('-').map(Number) as [number, number, number]
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0)
}

const today = (nowMs: number) => new Date(nowMs).toISOString().slice(0, 10)

/**
 * Field errors of a record about to be sealed (paths under `prefix`): adult today and on every
 * production date already linked, ID acceptable (R3) and valid when examined, R2 extra picture ID,
 * R7 primary producer.
 */
export function recordProblems(content: PerformerRecordContent, productionDates: string[], prefix: string, nowMs: number): FieldError[] {
  const errors: FieldError[] = []
  if (content.date_of_birth > today(nowMs)) errors.push({ path: `${prefix}.date_of_birth`, message: 'is in the future' })
  else if (ageOn(content.date_of_birth, today(nowMs)) < 18) errors.push({ path: `${prefix}.date_of_birth`, message: 'the performer is under 18: no 2257 record can be made' })
  for (const day of productionDates) {
    if (ageOn(content.date_of_birth, day) < 18) errors.push({ path: `${prefix}.date_of_birth`, message: `the performer would be under 18 on the production date ${day} of a linked depiction` })
  }
  const id = content.id_document
  const foreign = !US_JURISDICTIONS.has(id.issuer_country) || id.type.startsWith('foreign_')
  if (foreign) {
    const usParties = [
      US_JURISDICTIONS.has(content.locations.performer_country) ? 'the performer' : null,
      US_JURISDICTIONS.has(content.locations.producer_country) ? 'the producer' : null,
    ].filter(Boolean)
    if (usParties.length) {
      errors.push({ path: `${prefix}.id_document.issuer_country`, message: `a foreign government ID is acceptable only when performer and producer are both outside the US (28 CFR 75.1(b)); ${usParties.join(' and ')} is in the US` })
    }
  } else if (id.type === 'foreign_passport' || id.type === 'foreign_national_id') {
    errors.push({ path: `${prefix}.id_document.type`, message: 'a foreign ID type needs a non-US issuer_country' })
  }
  const examinedDay = id.examined_at.slice(0, 10)
  if (id.expires_on !== null && id.expires_on < examinedDay) errors.push({ path: `${prefix}.id_document.expires_on`, message: `the ID had expired (${id.expires_on}) when it was examined (${examinedDay})` })
  if (Date.parse(id.examined_at) > nowMs + 5 * 60_000) errors.push({ path: `${prefix}.id_document.examined_at`, message: 'is in the future' })
  if (!id.has_recent_photo && !id.copies.some((c) => c.side === 'additional_picture_id')) {
    errors.push({ path: `${prefix}.id_document.copies`, message: 'the examined ID has no recent photo: add a copy of a further picture ID (side additional_picture_id)' })
  }
  if (content.producer_role === 'secondary' && !content.primary_producer) {
    errors.push({ path: `${prefix}.primary_producer`, message: "a secondary producer's record names the primary producer {name, address} (28 CFR 75.2(b))" })
  }
  return errors
}

export function assertNoProblems(errors: FieldError[]): void {
  if (errors.length) throw new ProblemError('VALIDATION_FAILED', { detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors })
}

/** R13: the records' address must be a street address, never a post-office box. */
const PO_BOX = /\b(?:p\.?\s*o\.?\s*box|post\s*office\s*box|postal\s*box|p\.?\s*o\.?\s*b\.?\s+\d|postfach|apartado\s+postal|bo[iî]te\s+postale|locked\s+bag|private\s+bag|gpo\s+box)\b/i
export function isPoBox(address: string): boolean {
  return PO_BOX.test(address)
}
