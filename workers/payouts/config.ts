/**
 * Payout settings from the environment, parsed once per isolate: the cool-off after a method change,
 * the batch totals above which a second approver is needed, and the processor credentials
 * (`PAYOUT_PROCESSORS`, a JSON secret: `{ "wise": {...}, "paxum": {...} }`; a rail without an entry
 * is paid by the sandbox outside production and refused in production).
 * @module
 */
import { z } from 'zod'

const Env = z.object({
  PAYOUT_METHOD_COOL_OFF_HOURS: z.coerce.number().int().min(0).max(24 * 30).default(72),
  /** `USD:1000000,EUR:1000000`: minor units per currency */
  PAYOUT_SECOND_APPROVAL_ABOVE: z
    .string()
    .regex(/^([A-Z]{3}:\d{1,13})(,[A-Z]{3}:\d{1,13})*$/, 'CUR:minor,CUR:minor')
    .default('USD:1000000,EUR:1000000,GBP:800000'),
  PAYOUT_PROCESSORS: z.string().optional(),
})

export interface PayoutConfig {
  coolOffMs: number
  /** batch total (minor units) above which two distinct approvers are needed; currencies not listed: always two */
  secondApprovalAbove: ReadonlyMap<string, number>
  /** raw processor settings by rail (each adapter validates its own) */
  processors: Readonly<Record<string, unknown>>
}

const cache = new WeakMap<object, PayoutConfig>()

export function payoutConfig(env: Env): PayoutConfig {
  const hit = cache.get(env)
  if (hit) return hit
  const parsed = Env.safeParse(env as unknown as Record<string, unknown>)
  if (!parsed.success) throw new Error(`invalid payout configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  const v = parsed.data
  let processors: Record<string, unknown> = {}
  if (v.PAYOUT_PROCESSORS) {
    const json = z.record(z.string(), z.unknown()).safeParse(JSON.parse(v.PAYOUT_PROCESSORS))
    if (!json.success) throw new Error('PAYOUT_PROCESSORS must be a JSON object keyed by rail')
    processors = json.data
  }
  const config: PayoutConfig = {
    coolOffMs: v.PAYOUT_METHOD_COOL_OFF_HOURS * 3_600_000,
    secondApprovalAbove: new Map(v.PAYOUT_SECOND_APPROVAL_ABOVE.split(',').map((pair) => [pair.slice(0, 3), Number(pair.slice(4))])),
    processors,
  }
  cache.set(env, config)
  return config
}

/** approvals a batch of `totalMinor` in `currency` needs */
export function approvalsRequired(config: PayoutConfig, currency: string, totalMinor: number): 1 | 2 {
  const above = config.secondApprovalAbove.get(currency)
  return above !== undefined && totalMinor <= above ? 1 : 2
}
