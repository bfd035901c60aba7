import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { processorFor } from './registry'

const withEnv = (over: Record<string, string>) => ({ ...env, ...over }) as Env

describe('processor registry', () => {
  it('outside production a rail without settings is paid by the sandbox', async () => {
    const r = await processorFor(env, 'wise')
    expect(r).toMatchObject({ ok: true, resolved: { rail: 'wise', sandbox: true } })
    if (r.ok) expect(r.resolved.processor.id).toBe('sandbox')
    expect(await processorFor(env, 'nacha')).toMatchObject({ ok: false, code: 'file_rail' })
  })

  it('configured rails get their adapter with validated settings; malformed settings are named by field', async () => {
    const configured = withEnv({ PAYOUT_PROCESSORS: JSON.stringify({ epayservice: { apiToken: 't', wallets: { USD: 'W1' } }, wise: { apiToken: 't', profileId: 'not-a-number', environment: 'sandbox' } }) })
    const epay = await processorFor(configured, 'epayservice')
    expect(epay).toMatchObject({ ok: true, resolved: { sandbox: false, settings: { apiToken: 't', wallets: { USD: 'W1' } } } })
    if (epay.ok) expect(epay.resolved.processor.id).toBe('epayservice')
    const wise = await processorFor(configured, 'wise')
    expect(wise).toMatchObject({ ok: false, code: 'processor_settings_invalid' })
    if (!wise.ok) expect(wise.reason).toContain('PAYOUT_PROCESSORS.wise: profileId')
  })

  it('in production an unconfigured rail, and the sandbox rail, are refused', async () => {
    const production = withEnv({ ENVIRONMENT: 'production', PAYOUT_PROCESSORS: JSON.stringify({ paxum: { fromEmail: 'payouts@fanz.example', sharedSecret: 's' } }) })
    expect(await processorFor(production, 'payoneer')).toMatchObject({ ok: false, code: 'rail_not_configured' })
    expect(await processorFor(production, 'sandbox')).toMatchObject({ ok: false, code: 'rail_not_configured' })
    const paxum = await processorFor(production, 'paxum')
    expect(paxum).toMatchObject({ ok: true, resolved: { sandbox: false } })
  })
})
