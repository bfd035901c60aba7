/**
 * From a batch's payouts (with their opened methods) to the bytes of its bank file. Pure: the same
 * payouts, settings, file id and creation time give the same bytes, which is how writeBatchFile
 * (batch-file.ts) recovers a file it recorded but did not finish (it rebuilds and compares the
 * sha256) and how the XSD check under Node builds the same file as the Worker.
 *
 * Each payout gets the reference the bank will quote back (`refs`): the NACHA trace number (ODFI +
 * 7-digit sequence; ACH returns carry it in addenda 99), the SEPA EndToEndId (pain.002 rejections
 * carry it as OrgnlEndToEndId), the register reference for wires and checks. Amounts are the payout's
 * net (what the creator receives; the fee stays with the platform).
 * @module
 */
import { decimalFromMinor } from '../../payments/bank/money-text'
import { calendarOfRail, nextBankingDay } from '../calendar/banking-days'
import type { AchMethod, CheckMethod, PayoutMethod, SepaMethod, WireMethod } from '../methods/methods'
import type { PostalAddress } from '../methods/postal-address'
import type { z } from 'zod'
import type { CheckPayer, NachaOriginator, SepaDebtor, WirePayer } from './bank-accounts'
import { writeNachaFile, type NachaBatchInput, type NachaEntryInput } from './nacha/writer'
import { writePain001, type Pain001Input } from './sepa/writer'

export type FileFormat = 'nacha' | 'pain.001.001.09' | 'wire_csv' | 'check_csv'

export interface FilePayout {
  id: string
  creatorId: string
  currency: string
  amountMinor: number
  netMinor: number
  method: PayoutMethod
}

export interface BuiltFile {
  format: FileFormat
  contentType: string
  extension: 'ach' | 'xml' | 'csv'
  text: string
  /** payout id -> the reference the bank quotes back */
  refs: Map<string, string>
  entryCount: number
  totalMinor: number
}

export interface FileContext {
  fileId: string
  createdAtMs: number
}

/** `po_01J...` -> `po-01J...`: SEPA identifiers may not hold `_`; the ULID keeps it unique. */
export function bankReference(payoutId: string): string {
  return payoutId.replace('_', '-')
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * The date a file asks the bank to settle on: the first banking day of the rail's settlement
 * calendar after the creation day (UTC): FedACH holidays for NACHA, T2 closing days for SEPA
 * (calendar/). A date on a holiday would be rolled by the bank, and the file's record of when the
 * money moves would then be wrong.
 */
export function settlementDate(rail: 'nacha' | 'sepa', createdAtMs: number): string {
  return nextBankingDay(calendarOfRail(rail), createdAtMs)
}

// ------------------------------------------------------------------------------------------- NACHA

export interface NachaFileOptions extends FileContext {
  /** A-Z then 0-9: the how-many-th NACHA file of the UTC day this is (0-based) */
  dailyIndex: number
  /** entries written in earlier NACHA files: trace sequences continue from here, so a trace number names one entry across files */
  traceBase: number
}

const MODIFIERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/**
 * PPD for individual account holders, CCD for businesses (the ACH method's `holderType`). PPD
 * batches pay creators' compensation, so their Company Entry Description is `PAYROLL` (Nacha rule
 * from 2026-03-20, written on every date for one format). Entries in payout-id order, PPD first.
 */
export function buildNachaFile(originator: NachaOriginator, payouts: readonly (FilePayout & { method: z.infer<typeof AchMethod> })[], options: NachaFileOptions): BuiltFile {
  const sorted = [...payouts].sort((a, b) => (a.id < b.id ? -1 : 1))
  const groups = [
    { secCode: 'PPD' as const, description: 'PAYROLL', payouts: sorted.filter((p) => p.method.holderType !== 'business') },
    { secCode: 'CCD' as const, description: originator.ccdEntryDescription, payouts: sorted.filter((p) => p.method.holderType === 'business') },
  ].filter((g) => g.payouts.length > 0)
  const refs = new Map<string, string>()
  let sequence = options.traceBase % 9_999_999
  const createdAt = new Date(options.createdAtMs)
  const effectiveEntryDate = settlementDate('nacha', options.createdAtMs)
  const batches: NachaBatchInput[] = groups.map((g) => ({
    secCode: g.secCode,
    compensation: true,
    companyName: originator.companyName,
    companyIdentification: originator.companyIdentification,
    companyEntryDescription: g.description,
    effectiveEntryDate,
    originatingDfi: originator.originatingDfi,
    entries: g.payouts.map((p): NachaEntryInput => {
      sequence += 1
      refs.set(p.id, originator.originatingDfi + String(sequence).padStart(7, '0'))
      return {
        transactionCode: p.method.accountType === 'savings' ? '32' : '22',
        receivingDfi: p.method.routingNumber,
        accountNumber: p.method.accountNumber,
        amountMinor: p.netMinor,
        // the ULID's random tail: the creator's bank shows it beside the amount
        individualId: p.id.slice(-15),
        individualName: p.method.accountHolderName,
        paymentInformation: `FANZ CREATOR PAYOUT ${p.id}`,
        traceSequence: sequence,
      }
    }),
  }))
  const text = writeNachaFile({
    immediateDestination: originator.immediateDestination,
    immediateOrigin: originator.immediateOrigin,
    immediateDestinationName: originator.immediateDestinationName,
    immediateOriginName: originator.immediateOriginName,
    referenceCode: options.fileId.slice(-8),
    fileCreationDate: isoDay(options.createdAtMs),
    fileCreationTime: `${String(createdAt.getUTCHours()).padStart(2, '0')}:${String(createdAt.getUTCMinutes()).padStart(2, '0')}`,
    fileIdModifier: MODIFIERS[options.dailyIndex % MODIFIERS.length]!,
    batches,
    lineEnding: originator.lineEnding,
  })
  return { format: 'nacha', contentType: 'text/plain; charset=us-ascii', extension: 'ach', text, refs, entryCount: sorted.length, totalMinor: sum(sorted) }
}

// -------------------------------------------------------------------------------------------- SEPA

/** The pain.001 input for a SEPA batch: one PmtInf from the platform's account, one transaction per payout. */
export function sepaInputFor(debtor: SepaDebtor, payouts: readonly (FilePayout & { method: z.infer<typeof SepaMethod> })[], options: FileContext): Pain001Input {
  const sorted = [...payouts].sort((a, b) => (a.id < b.id ? -1 : 1))
  return {
    messageId: bankReference(options.fileId),
    createdAtMs: options.createdAtMs,
    initiatingParty: { name: debtor.initiatingPartyName },
    instructions: [
      {
        id: `${bankReference(options.fileId)}-1`,
        requestedExecutionDate: settlementDate('sepa', options.createdAtMs),
        batchBooking: debtor.batchBooking,
        debtor: { name: debtor.debtorName, iban: debtor.iban, bic: debtor.bic, ...(debtor.postalAddress ? { postalAddress: sepaAddress(debtor.postalAddress) } : {}) },
        payments: sorted.map((p) => ({
          endToEndId: bankReference(p.id),
          amountMinor: p.netMinor,
          currency: p.currency,
          creditor: { name: p.method.name, iban: p.method.iban, bic: p.method.bic, postalAddress: sepaAddress(p.method.address) },
          remittance: `FANZ creator payout ${bankReference(p.id)}`,
        })),
      },
    ],
  }
}

type SepaAddressInput = NonNullable<Pain001Input['instructions'][number]['debtor']['postalAddress']>

/** The method's address (methods/postal-address.ts: town and country required by its own check) in the writer's shape. */
function sepaAddress(a: PostalAddress): SepaAddressInput {
  const { townName, country, ...rest } = a
  return { ...rest, townName: townName ?? '', country: country ?? '' }
}

export function buildSepaFile(debtor: SepaDebtor, payouts: readonly (FilePayout & { method: z.infer<typeof SepaMethod> })[], options: FileContext): BuiltFile {
  const input = sepaInputFor(debtor, payouts, options)
  const file = writePain001(input)
  const refs = new Map(payouts.map((p) => [p.id, bankReference(p.id)]))
  return { format: 'pain.001.001.09', contentType: 'application/xml', extension: 'xml', text: file.xml, refs, entryCount: file.numberOfTransactions, totalMinor: sum(payouts) }
}

// ------------------------------------------------------------------------------ wire and check CSV

/**
 * RFC 4180 cell: quoted when it holds a comma, quote or line break; a leading `= + - @` (a formula
 * in a spreadsheet, and these registers are opened in one) is defused with an apostrophe.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) || safe.trim() !== safe ? `"${safe.replaceAll('"', '""')}"` : safe
}

function csv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

/** One line: "Street 5, Building, 10115 Berlin, BE, DE" (structured fields in postal order). */
export function addressLine(a: PostalAddress): string {
  const street = [a.streetName, a.buildingNumber].filter(Boolean).join(' ')
  const town = [a.postCode, a.townName].filter(Boolean).join(' ')
  return [a.department, a.subDepartment, a.buildingName, a.floor && `Floor ${a.floor}`, a.room && `Room ${a.room}`, street, a.postBox && `PO Box ${a.postBox}`, ...(a.addressLines ?? []), a.townLocationName, a.districtName, town, a.countrySubDivision, a.country]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(', ')
}

export const WIRE_COLUMNS = ['reference', 'payout_id', 'creator_id', 'beneficiary_name', 'beneficiary_bic', 'beneficiary_iban', 'beneficiary_account', 'beneficiary_bank', 'beneficiary_bank_address', 'intermediary_bic', 'amount', 'currency', 'ordering_account', 'ordering_bic', 'remittance'] as const

export function buildWireRegister(payer: WirePayer, payouts: readonly (FilePayout & { method: z.infer<typeof WireMethod> })[], _options: FileContext): BuiltFile {
  const sorted = [...payouts].sort((a, b) => (a.id < b.id ? -1 : 1))
  const rows = sorted.map((p) => [
    bankReference(p.id),
    p.id,
    p.creatorId,
    p.method.beneficiaryName,
    p.method.bic,
    p.method.iban ?? '',
    p.method.accountNumber ?? '',
    p.method.bankName,
    addressLine(p.method.bankAddress),
    p.method.intermediaryBic ?? '',
    decimalFromMinor(p.netMinor, p.currency),
    p.currency,
    payer.accountNumber,
    payer.bic,
    `FANZ creator payout ${bankReference(p.id)}`,
  ])
  return { format: 'wire_csv', contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv', text: csv(WIRE_COLUMNS, rows), refs: new Map(sorted.map((p) => [p.id, bankReference(p.id)])), entryCount: sorted.length, totalMinor: sum(sorted) }
}

export const CHECK_COLUMNS = ['reference', 'payout_id', 'creator_id', 'payee_name', 'address', 'post_code', 'town', 'country_subdivision', 'country', 'amount', 'currency', 'memo', 'drawn_on_bank', 'drawn_on_routing', 'drawn_on_account'] as const

export function buildCheckRegister(payer: CheckPayer, payouts: readonly (FilePayout & { method: z.infer<typeof CheckMethod> })[], _options: FileContext): BuiltFile {
  const sorted = [...payouts].sort((a, b) => (a.id < b.id ? -1 : 1))
  const rows = sorted.map((p) => {
    const a = p.method.address
    return [
      bankReference(p.id),
      p.id,
      p.creatorId,
      p.method.payeeName,
      addressLine({ ...a, postCode: undefined, townName: undefined, countrySubDivision: undefined, country: undefined }),
      a.postCode ?? '',
      a.townName ?? '',
      a.countrySubDivision ?? '',
      a.country ?? '',
      decimalFromMinor(p.netMinor, p.currency),
      p.currency,
      `FANZ creator payout ${bankReference(p.id)}`,
      payer.bankName,
      payer.routingNumber,
      payer.accountNumber,
    ]
  })
  return { format: 'check_csv', contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv', text: csv(CHECK_COLUMNS, rows), refs: new Map(sorted.map((p) => [p.id, bankReference(p.id)])), entryCount: sorted.length, totalMinor: sum(sorted) }
}

function sum(payouts: readonly FilePayout[]): number {
  return payouts.reduce((s, p) => s + p.netMinor, 0)
}

/** The method type a file rail pays, and the currency its file carries (null: any). */
export const RAIL_METHOD: Readonly<Record<'nacha' | 'sepa' | 'wire' | 'check', { type: PayoutMethod['type']; currency: string | null }>> = {
  nacha: { type: 'ach', currency: 'USD' },
  sepa: { type: 'sepa', currency: 'EUR' },
  wire: { type: 'wire', currency: null },
  check: { type: 'check', currency: null },
}
