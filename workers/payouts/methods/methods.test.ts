/**
 * Payout methods as a creator enters them: every method's happy path, and errors that name the
 * field. IBAN examples are the SWIFT IBAN registry's per-country examples (GB and DE are also the
 * worked examples in payouts.md §3); ABA examples are payouts.md §1's worked pair plus published
 * routing numbers of large US banks; BICs are real institutions' published BICs.
 */
import { describe, expect, it } from 'vitest'
import { parsePayoutMethod, type ParsedPayoutMethod } from './methods'
import { isIsoCountry } from './postal-address'

const errorsOf = (result: ParsedPayoutMethod) => (result.ok ? [] : result.errors)
const pathsOf = (result: ParsedPayoutMethod) => errorsOf(result).map((e) => e.path)

const berlin = { streetName: 'Unter den Linden', buildingNumber: '77', postCode: '10117', townName: 'Berlin', country: 'DE' }
const sepa = (over: Record<string, unknown> = {}) => ({ type: 'sepa', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', name: 'Alex Example', address: berlin, ...over })

describe('IBAN (through SEPA methods)', () => {
  it('accepts valid IBANs of several countries and stores them compact', () => {
    const valid = [
      'GB82 WEST 1234 5698 7654 32',
      'DE89370400440532013000',
      'FR1420041010050500013M02606',
      'NL91ABNA0417164300',
      'BE68539007547034',
      'NO9386011117947',
      'CH9300762011623852957',
      'ES9121000418450200051332',
      'IT60X0542811101000000123456',
    ]
    for (const iban of valid) {
      const result = parsePayoutMethod(sepa({ iban }))
      expect(result.ok, iban).toBe(true)
      if (result.ok && result.method.type === 'sepa') expect(result.method.iban).toBe(iban.replace(/ /g, ''))
    }
  })

  it('refuses wrong check digits and wrong lengths, naming the iban field', () => {
    const invalid = [
      'GB83WEST12345698765432', // check digits 82 -> 83
      'DE89370400440532013001', // last digit changed
      'NL91ABNA0417164301',
      'DE5137040044053201300', // mod-97 right (computed for this body) but 21 characters; DE is 22
      'GB82WEST123456987654321', // one character too many
      'XX', // not even the shape
    ]
    for (const iban of invalid) {
      const result = parsePayoutMethod(sepa({ iban }))
      expect(errorsOf(result), iban).toEqual([{ path: 'iban', message: 'not a valid IBAN (length for its country or mod-97 check digits wrong)' }])
    }
  })
})

describe('BIC', () => {
  it('accepts 8- and 11-character BICs', () => {
    for (const bic of ['DEUTDEFF', 'DEUTDEFF500', 'NWBKGB2L', 'COBADEFFXXX']) expect(parsePayoutMethod(sepa({ bic })).ok, bic).toBe(true)
  })

  it('refuses lowercase, 7, 9 and 10 characters and a digit in the country', () => {
    for (const bic of ['deutdeff', 'DeutDEFF', 'DEUTDEF', 'DEUTDEFF5', 'DEUTDEFF50', 'DEUT1EFF']) {
      expect(pathsOf(parsePayoutMethod(sepa({ bic }))), bic).toEqual(['bic'])
    }
  })
})

describe('ABA routing numbers (ACH)', () => {
  const ach = (over: Record<string, unknown> = {}) => ({
    type: 'ach',
    routingNumber: '021000021',
    accountNumber: '123456789',
    accountType: 'checking',
    accountHolderName: 'Alex Example',
    ...over,
  })

  it('accepts routing numbers whose 3-7-1 checksum is right', () => {
    for (const routingNumber of ['011000015', '021000021', '026009593', '121000358']) {
      expect(parsePayoutMethod(ach({ routingNumber })).ok, routingNumber).toBe(true)
    }
  })

  it('refuses one wrong digit, letters and 8 digits, naming routingNumber', () => {
    for (const routingNumber of ['011000016', '021000022', '02100002A', '02100002']) {
      expect(errorsOf(parsePayoutMethod(ach({ routingNumber }))), routingNumber).toEqual([
        { path: 'routingNumber', message: 'not a valid ABA routing number (9 digits, 3-7-1 checksum)' },
      ])
    }
  })

  it('parses an ACH method with defaults and refuses bad account details field by field', () => {
    expect(parsePayoutMethod(ach({ accountNumber: '0001-2345' }))).toEqual({
      ok: true,
      method: { type: 'ach', routingNumber: '021000021', accountNumber: '00012345', accountType: 'checking', accountHolderName: 'Alex Example', holderType: 'individual' },
    })
    expect(parsePayoutMethod(ach({ holderType: 'business', accountType: 'savings' }))).toMatchObject({ ok: true, method: { holderType: 'business', accountType: 'savings' } })
    expect(errorsOf(parsePayoutMethod(ach({ accountNumber: '123' })))).toEqual([{ path: 'accountNumber', message: 'account number: 4-17 digits' }])
    expect(pathsOf(parsePayoutMethod(ach({ accountNumber: '123456789012345678' })))).toEqual(['accountNumber'])
    expect(pathsOf(parsePayoutMethod(ach({ accountType: 'money_market' })))).toEqual(['accountType'])
    expect(pathsOf(parsePayoutMethod(ach({ accountHolderName: 'A name much longer than 22' })))).toEqual(['accountHolderName'])
    expect(pathsOf(parsePayoutMethod(ach({ accountHolderName: 'José Núñez' })))).toEqual(['accountHolderName'])
  })
})

describe('SEPA structured addresses (EPC 2025)', () => {
  it('accepts structured and hybrid addresses', () => {
    expect(parsePayoutMethod(sepa())).toEqual({
      ok: true,
      method: { type: 'sepa', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', name: 'Alex Example', address: berlin },
    })
    const hybrid = { townName: 'Paris', country: 'FR', postCode: '75001', addressLines: ['12 rue de Rivoli', 'Bâtiment B'] }
    expect(parsePayoutMethod(sepa({ address: hybrid })).ok).toBe(true)
  })

  it('refuses an unstructured-only address, citing the EPC 2025 rule on townName and country', () => {
    const result = parsePayoutMethod(sepa({ address: { addressLines: ['Unter den Linden 77', '10117 Berlin'] } }))
    expect(pathsOf(result)).toEqual(['address.townName', 'address.country'])
    for (const error of errorsOf(result)) expect(error.message).toMatch(/EPC 2025: unstructured-only addresses are refused/)
  })

  it('refuses a missing town, bad countries, a third address line, long fields and unknown fields', () => {
    expect(errorsOf(parsePayoutMethod(sepa({ address: { ...berlin, townName: undefined } })))).toEqual([{ path: 'address.townName', message: 'town name is required' }])
    for (const country of ['de', 'XX', 'EU', 'UK', 'DEU']) {
      expect(pathsOf(parsePayoutMethod(sepa({ address: { ...berlin, country } }))), country).toEqual(['address.country'])
    }
    expect(pathsOf(parsePayoutMethod(sepa({ address: { ...berlin, addressLines: ['a', 'b', 'c'] } })))).toEqual(['address.addressLines'])
    expect(pathsOf(parsePayoutMethod(sepa({ address: { ...berlin, postCode: '12345678901234567' } })))).toEqual(['address.postCode'])
    expect(pathsOf(parsePayoutMethod(sepa({ address: { ...berlin, townName: 'x'.repeat(36) } })))).toEqual(['address.townName'])
    expect(pathsOf(parsePayoutMethod(sepa({ address: { ...berlin, city: 'Berlin' } })))).toEqual(['address'])
    expect(pathsOf(parsePayoutMethod(sepa({ name: 'n'.repeat(71) })))).toEqual(['name'])
  })

  it('knows ISO 3166-1 alpha-2 codes, with XK, and not reserved or withdrawn ones', () => {
    for (const code of ['DE', 'FR', 'US', 'GB', 'AX', 'CW', 'SS', 'XK']) expect(isIsoCountry(code), code).toBe(true)
    for (const code of ['UK', 'EU', 'SU', 'AN', 'ZZ', 'XX']) expect(isIsoCountry(code), code).toBe(false)
  })
})

describe('the other methods', () => {
  it('paxum: email', () => {
    expect(parsePayoutMethod({ type: 'paxum', email: ' creator@example.com ' })).toEqual({ ok: true, method: { type: 'paxum', email: 'creator@example.com' } })
    expect(errorsOf(parsePayoutMethod({ type: 'paxum', email: 'creator.example.com' }))).toEqual([{ path: 'email', message: 'not a valid email address' }])
  })

  it('epayservice: account id or email', () => {
    expect(parsePayoutMethod({ type: 'epayservice', accountId: '000-123456' })).toEqual({ ok: true, method: { type: 'epayservice', accountId: '000-123456' } })
    expect(parsePayoutMethod({ type: 'epayservice', email: 'creator@example.com' }).ok).toBe(true)
    expect(errorsOf(parsePayoutMethod({ type: 'epayservice' }))).toEqual([{ path: 'accountId', message: 'give the ePayService account id or its email' }])
    expect(pathsOf(parsePayoutMethod({ type: 'epayservice', accountId: 'a b' }))).toEqual(['accountId'])
  })

  it('payoneer: payee id', () => {
    expect(parsePayoutMethod({ type: 'payoneer', payeeId: 'crt_01JFANZ0000000000000000101' })).toMatchObject({ ok: true })
    expect(pathsOf(parsePayoutMethod({ type: 'payoneer', payeeId: '' }))).toEqual(['payeeId'])
    expect(pathsOf(parsePayoutMethod({ type: 'payoneer', payeeId: 'has space' }))).toEqual(['payeeId'])
  })

  it('wise: recipient details by currency', () => {
    const usAddress = { streetName: 'Main Street', buildingNumber: '100', postCode: '10001', townName: 'New York', countrySubDivision: 'NY', country: 'US' }
    const wise = (currency: string, details: Record<string, unknown>) => ({ type: 'wise', currency, accountHolderName: 'Alex Example', details, ...(currency === 'USD' ? { address: usAddress } : {}) })
    expect(parsePayoutMethod(wise('GBP', { kind: 'sort_code', sortCode: '40-47-84', accountNumber: '70872490' }))).toEqual({
      ok: true,
      method: { type: 'wise', currency: 'GBP', accountHolderName: 'Alex Example', details: { kind: 'sort_code', sortCode: '404784', accountNumber: '70872490' } },
    })
    expect(parsePayoutMethod(wise('GBP', { kind: 'iban', iban: 'GB82WEST12345698765432' })).ok).toBe(true)
    expect(parsePayoutMethod(wise('EUR', { kind: 'iban', iban: 'FR1420041010050500013M02606' })).ok).toBe(true)
    expect(parsePayoutMethod(wise('USD', { kind: 'aba', routingNumber: '026009593', accountNumber: '12345678', accountType: 'savings' })).ok).toBe(true)
    expect(parsePayoutMethod(wise('USD', { kind: 'swift', bic: 'CHASUS33', accountNumber: '000123456789' })).ok).toBe(true)

    expect(errorsOf(parsePayoutMethod(wise('EUR', { kind: 'sort_code', sortCode: '404784', accountNumber: '70872490' })))).toEqual([
      { path: 'details.kind', message: 'EUR recipients take iban details, not sort_code' },
    ])
    expect(errorsOf(parsePayoutMethod(wise('GBP', { kind: 'sort_code', sortCode: '40478', accountNumber: '70872490' })))).toEqual([
      { path: 'details.sortCode', message: 'UK sort code: 6 digits' },
    ])
    expect(pathsOf(parsePayoutMethod(wise('EUR', { kind: 'iban', iban: 'FR1520041010050500013M02606' })))).toEqual(['details.iban'])
    expect(pathsOf(parsePayoutMethod(wise('USD', { kind: 'aba', routingNumber: '026009594', accountNumber: '12345678', accountType: 'savings' })))).toEqual(['details.routingNumber'])
    expect(pathsOf(parsePayoutMethod(wise('JPY', { kind: 'iban', iban: 'GB82WEST12345698765432' })))).toEqual(['currency'])
    // Wise needs the address of a USD recipient
    const { address: _dropped, ...withoutAddress } = wise('USD', { kind: 'aba', routingNumber: '026009593', accountNumber: '12345678', accountType: 'savings' }) as Record<string, unknown>
    expect(errorsOf(parsePayoutMethod(withoutAddress))).toEqual([{ path: 'address', message: 'USD recipients need their postal address (Wise requires it)' }])
  })

  it('crypto: address checked for its asset and network, stored in canonical form', () => {
    expect(parsePayoutMethod({ type: 'crypto', asset: 'USDT', network: 'ethereum', address: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed' })).toEqual({
      ok: true,
      method: { type: 'crypto', asset: 'USDT', network: 'ethereum', address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' },
    })
    expect(parsePayoutMethod({ type: 'crypto', asset: 'BTC', network: 'bitcoin', address: 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4' })).toMatchObject({
      ok: true,
      method: { address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' },
    })
    expect(parsePayoutMethod({ type: 'crypto', asset: 'USDT', network: 'tron', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' }).ok).toBe(true)
    expect(errorsOf(parsePayoutMethod({ type: 'crypto', asset: 'USDT', network: 'ethereum', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' }))).toEqual([
      { path: 'address', message: 'this address is on TRON, but USDT is to be paid on Ethereum' },
    ])
    expect(errorsOf(parsePayoutMethod({ type: 'crypto', asset: 'BTC', network: 'bitcoin', address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx' }))).toEqual([
      { path: 'address', message: 'testnet Bitcoin address refused for a mainnet payout' },
    ])
    expect(pathsOf(parsePayoutMethod({ type: 'crypto', asset: 'BTC', network: 'tron', address: 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8' }))).toEqual(['network'])
    expect(pathsOf(parsePayoutMethod({ type: 'crypto', asset: 'DOGE', network: 'bitcoin', address: '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa' }))).toEqual(['asset'])
  })

  it('wire: BIC, IBAN or account number, bank name and address, optional intermediary', () => {
    const bankAddress = { streetName: 'Broadway', buildingNumber: '383', postCode: '10013', townName: 'New York', countrySubDivision: 'NY', country: 'US' }
    const wire = (over: Record<string, unknown> = {}) => ({ type: 'wire', beneficiaryName: 'Alex Example', bic: 'CHASUS33', accountNumber: '000123456789', bankName: 'JPMorgan Chase Bank, N.A.', bankAddress, ...over })
    expect(parsePayoutMethod(wire())).toMatchObject({ ok: true, method: { type: 'wire', accountNumber: '000123456789' } })
    expect(parsePayoutMethod(wire({ bic: 'DEUTDEFF', accountNumber: undefined, iban: 'DE89370400440532013000', intermediaryBic: 'CHASUS33', bankAddress: berlin })).ok).toBe(true)
    expect(errorsOf(parsePayoutMethod(wire({ iban: 'DE89370400440532013000' })))).toEqual([{ path: 'iban', message: 'give either an IBAN or an account number, not both or neither' }])
    expect(pathsOf(parsePayoutMethod(wire({ accountNumber: undefined })))).toEqual(['iban'])
    expect(pathsOf(parsePayoutMethod(wire({ intermediaryBic: 'chasus33' })))).toEqual(['intermediaryBic'])
    expect(pathsOf(parsePayoutMethod(wire({ bankAddress: { ...bankAddress, country: undefined } })))).toEqual(['bankAddress.country'])
    expect(pathsOf(parsePayoutMethod(wire({ bankName: '' })))).toEqual(['bankName'])
  })

  it('check: payee name and a deliverable postal address', () => {
    const address = { streetName: 'Main Street', buildingNumber: '1600', postCode: '94043', townName: 'Mountain View', countrySubDivision: 'CA', country: 'US' }
    expect(parsePayoutMethod({ type: 'check', payeeName: 'Alex Example', address })).toEqual({ ok: true, method: { type: 'check', payeeName: 'Alex Example', address } })
    expect(parsePayoutMethod({ type: 'check', payeeName: 'Alex Example', address: berlin }).ok).toBe(true)
    expect(errorsOf(parsePayoutMethod({ type: 'check', payeeName: 'Alex Example', address: { ...address, postCode: '9404', countrySubDivision: undefined } }))).toEqual([
      { path: 'address.countrySubDivision', message: 'US addresses need the two-letter state code' },
      { path: 'address.postCode', message: 'US addresses need a ZIP code (12345 or 12345-6789)' },
    ])
    expect(pathsOf(parsePayoutMethod({ type: 'check', payeeName: ' ', address }))).toEqual(['payeeName'])
  })

  it('refuses an unknown method type, naming type', () => {
    expect(pathsOf(parsePayoutMethod({ type: 'paypal', email: 'creator@example.com' }))).toEqual(['type'])
    expect(pathsOf(parsePayoutMethod('paxum'))).toEqual([''])
  })
})
