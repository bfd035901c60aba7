import { describe, expect, it } from 'vitest'
import { bankReferenceFor, creditorReference, isCreditorReference, printedReference } from './reference'

describe('ISO 11649 creditor references', () => {
  it('reproduces the standard example RF18 5390 0754 7034', () => {
    expect(creditorReference('539007547034')).toBe('RF18539007547034')
    expect(isCreditorReference('RF18 5390 0754 7034')).toBe(true)
  })

  it('refuses a reference with one changed character', () => {
    expect(isCreditorReference('RF18539007547035')).toBe(false)
    expect(isCreditorReference('RF19539007547034')).toBe(false)
  })

  it('derives a valid, printable reference from a payment id', () => {
    const ref = bankReferenceFor('pay_01JFANZ0000000000000000ABC')
    expect(ref).toMatch(/^RF[0-9]{2}NZ0000000000000000ABC$/)
    expect(isCreditorReference(ref)).toBe(true)
    expect(printedReference('RF18539007547034')).toBe('RF18 5390 0754 7034')
  })

  it('gives payments opened in the same millisecond different references', async () => {
    const { newId } = await import('../../lib/ids')
    const now = Date.now()
    const refs = Array.from({ length: 50 }, () => bankReferenceFor(newId('payment', now)))
    expect(new Set(refs).size).toBe(50)
  })
})
