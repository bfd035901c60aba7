/**
 * Rail -> the processor that pays it, with its settings. Settings come from `payoutConfig(env)
 * .processors[rail]` (the `PAYOUT_PROCESSORS` secret) and are validated here, per adapter, with zod,
 * before any call: a malformed secret is a configuration error named by field, never a half-made
 * request to a processor.
 *
 * Outside production a rail without settings is paid by the sandbox processor (processors/sandbox.ts)
 * over its D1 store (sandbox-store.ts), so the whole flow runs locally with the real states and
 * failures; the per-payout outcome a developer set (`setSandboxOutcome`) is applied. In production a
 * rail without settings, and the `sandbox` rail itself, are refused (`rail_not_configured`).
 * @module
 */
import { z } from 'zod'
import type { PayoutRail } from '../../../d1/schema/payouts'
import { getConfig } from '../../config'
import { payoutConfig } from '../config'
import { isFileRail } from '../rails'
import { fireblocksProcessor } from './crypto-custodian'
import { epayserviceProcessor } from './epayservice'
import { paxum } from './paxum'
import { payoneer } from './payoneer'
import { createSandboxProcessor, type SandboxSettings } from './sandbox'
import { d1SandboxStore, sandboxOutcome } from './sandbox-store'
import { fetchTransport, type PayoutProcessor, type Transport } from './types'
import { wiseProcessor } from './wise'

const nonEmpty = z.string().min(1)

/** Each adapter's settings as they appear in PAYOUT_PROCESSORS. */
export const PROCESSOR_SETTINGS = {
  paxum: z.object({ fromEmail: z.email(), sharedSecret: nonEmpty, endpoint: z.url().optional(), lookbackDays: z.number().int().min(1).max(365).optional(), historyPages: z.number().int().min(1).max(50).optional() }).strict(),
  wise: z.object({ apiToken: nonEmpty, profileId: z.number().int().positive(), environment: z.enum(['live', 'sandbox']), legalType: z.enum(['PRIVATE', 'BUSINESS']).optional(), referenceMaxLength: z.number().int().min(1).max(140).optional() }).strict(),
  payoneer: z.object({ programId: nonEmpty, clientId: nonEmpty, clientSecret: nonEmpty, apiBase: z.url().optional(), tokenUrl: z.url().optional() }).strict(),
  epayservice: z.object({ apiToken: nonEmpty, wallets: z.record(z.string().regex(/^[A-Z]{3}$/), nonEmpty), baseUrl: z.url().optional() }).strict(),
  crypto_custodian: z
    .object({ apiKey: nonEmpty, privateKeyPem: z.string().includes('PRIVATE KEY'), vaultAccountId: nonEmpty, environment: z.enum(['live', 'sandbox']), assetIds: z.record(z.string(), nonEmpty).optional() })
    .strict(),
} as const

type ConfiguredRail = keyof typeof PROCESSOR_SETTINGS

const ADAPTERS: { readonly [R in ConfiguredRail]: PayoutProcessor<never> } = {
  paxum: paxum as PayoutProcessor<never>,
  wise: wiseProcessor as PayoutProcessor<never>,
  payoneer: payoneer as PayoutProcessor<never>,
  epayservice: epayserviceProcessor as PayoutProcessor<never>,
  crypto_custodian: fireblocksProcessor as PayoutProcessor<never>,
}

/** A processor ready to call: adapter, validated settings and the transport to use. */
export interface ResolvedProcessor {
  rail: PayoutRail
  processor: PayoutProcessor<unknown>
  settings: unknown
  transport: Transport
  /** true when the sandbox stands in for the rail */
  sandbox: boolean
}

export type ProcessorResolution = { ok: true; resolved: ResolvedProcessor } | { ok: false; code: 'rail_not_configured' | 'processor_settings_invalid' | 'file_rail'; reason: string }

export interface ResolveOptions {
  /** the payout whose per-payout sandbox outcome applies */
  payoutId?: string
  /** overrides the transport of a real adapter (tests with a fake processor) */
  transport?: Transport
  /** clock for the sandbox's delayed settlement */
  now?: () => number
}

const isConfiguredRail = (rail: string): rail is ConfiguredRail => rail in PROCESSOR_SETTINGS

/** The processor for `rail` (see the module notes). */
export async function processorFor(env: Env, rail: PayoutRail, options: ResolveOptions = {}): Promise<ProcessorResolution> {
  if (isFileRail(rail)) return { ok: false, code: 'file_rail', reason: `${rail} is paid by a bank file, not a processor` }
  const production = getConfig(env).environment === 'production'
  const raw = rail === 'sandbox' ? undefined : payoutConfig(env).processors[rail]

  if (raw !== undefined && isConfiguredRail(rail)) {
    const parsed = PROCESSOR_SETTINGS[rail].safeParse(raw)
    if (!parsed.success) {
      return { ok: false, code: 'processor_settings_invalid', reason: `PAYOUT_PROCESSORS.${rail}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}` }
    }
    return { ok: true, resolved: { rail, processor: ADAPTERS[rail] as PayoutProcessor<unknown>, settings: parsed.data, transport: options.transport ?? fetchTransport(), sandbox: false } }
  }

  if (production) return { ok: false, code: 'rail_not_configured', reason: `no processor settings for ${rail} in PAYOUT_PROCESSORS` }

  const store = d1SandboxStore(env.DB)
  const settings: SandboxSettings = {}
  if (options.payoutId) {
    const directive = await sandboxOutcome(env, options.payoutId)
    if (directive) settings.outcomes = { [options.payoutId]: directive }
  }
  const processor = createSandboxProcessor({ store, ...(options.now ? { now: options.now } : {}) })
  // the sandbox answers through its own in-process transport; this one is never used
  return { ok: true, resolved: { rail, processor: processor as PayoutProcessor<unknown>, settings, transport: fetchTransport(), sandbox: true } }
}
