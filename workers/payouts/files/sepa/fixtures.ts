/**
 * Inputs shared by the workerd tests (writer.test.ts) and the XSD check under Node
 * (pain001.xsd.node.test.ts). IBANs are the payouts spec's worked examples and the registry's
 * published examples (valid mod-97); BICs are real-shaped 8/11-character codes.
 * @module
 */
import type { Pain001Input } from './input'

export const DEBTOR_IBAN = 'DE89 3704 0044 0532 0130 00'
export const DEBTOR_BIC = 'COBADEFFXXX'

type PaymentInput = Pain001Input['instructions'][number]['payments'][number]

export const THREE_PAYMENTS: PaymentInput[] = [
  {
    endToEndId: 'PAYOUT-0001',
    amountMinor: 1000,
    currency: 'EUR',
    creditor: {
      name: 'Anna Müller',
      iban: 'DE02120300000000202051',
      bic: 'BYLADEM1001',
      postalAddress: { streetName: 'Hauptstraße', buildingNumber: '5', postCode: '10115', townName: 'Berlin', country: 'DE' },
    },
    remittance: 'FANZ payout November 2026',
  },
  {
    endToEndId: 'PAYOUT-0002',
    amountMinor: 1,
    currency: 'EUR',
    creditor: { name: 'Jean Dupont', iban: 'FR1420041010050500013M02606' },
  },
  {
    endToEndId: 'PAYOUT-0003',
    amountMinor: 123456,
    currency: 'EUR',
    creditor: {
      name: 'Jansen & Zonen <B.V.>',
      iban: 'NL91 ABNA 0417 1643 00',
      bic: 'abnanl2a',
      // hybrid address: structured town and country plus free lines
      postalAddress: { townName: 'Amsterdam', country: 'NL', addressLines: ['Keizersgracht 1', '2e verdieping'] },
    },
    remittance: `Invoice "42" & bonus 'Q4'`,
  },
]

export function pain001Input(overrides: Partial<Pain001Input> = {}): Pain001Input {
  return {
    messageId: 'MSG-20261126-0001',
    createdAtMs: Date.UTC(2026, 10, 26, 18, 41, 31),
    initiatingParty: { name: 'FANZ Payments GmbH' },
    instructions: [
      {
        id: 'PMTINF-1',
        requestedExecutionDate: '2026-11-27',
        batchBooking: true,
        debtor: {
          name: 'FANZ Payments GmbH',
          iban: DEBTOR_IBAN,
          bic: DEBTOR_BIC,
          postalAddress: { streetName: 'Friedrichstraße', buildingNumber: '100', postCode: '10117', townName: 'Berlin', country: 'DE' },
        },
        payments: THREE_PAYMENTS,
      },
    ],
    ...overrides,
  }
}

/** `count` payments of 1.00 .. count.00 EUR to one creditor, no addresses. */
export function manyPayments(count: number): PaymentInput[] {
  return Array.from({ length: count }, (_, i) => ({
    endToEndId: `E2E-${String(i + 1).padStart(6, '0')}`,
    amountMinor: (i + 1) * 100,
    currency: 'EUR',
    creditor: { name: `Creator ${i + 1}`, iban: 'GB82 WEST 1234 5698 7654 32' },
  }))
}
