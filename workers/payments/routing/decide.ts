/**
 * The routing decision: rule or default order, eligibility, ordering (fixed, volume split or
 * success rate with exploration), then expansion into gateway + MID candidates. Pure: the same
 * inputs and RNG sequence give the same decision.
 * @module
 */
import { gatewayProblem, midProblem, midStanding } from './eligibility'
import type { Rng } from './prng'
import { describeCondition, firstMatchingRule } from './rules'
import { segmentOf, windowStats, type RoutingState } from './state'
import type { Candidate, Decision, Exclusion, GatewayInfo, MidHealth, MidInfo, PaymentContext, RoutingConfig, RuleOutput } from './types'

/** The live inputs of a decision, all plain data. */
export interface RoutingInputs {
  /** the decision's clock: elimination ends are compared with it */
  nowMs: number
  gateways: readonly GatewayInfo[]
  mids: readonly MidInfo[]
  /** from the MerchantHealth objects; a MID without an entry is taken as healthy and uncapped */
  midHealth: readonly MidHealth[]
  stats: RoutingState
}

interface Eligible {
  gateway: string
  mids: { mid: MidInfo; health: MidHealth | undefined }[]
}

interface Ordered {
  gateways: string[]
  /** per gateway: why it sits where it does */
  why: Map<string, string[]>
  explored: boolean
}

const percent = (approved: number, samples: number): string => `${((approved * 100) / samples).toFixed(1)}%`

/**
 * Where to send a payment, in order, and why.
 * @param ctx the payment
 * @param config rules, default order, success-rate and elimination settings
 * @param state catalog, MID health, observed outcomes and the clock
 * @param rng drawn for volume splits and exploration only; seed it (e.g. `mulberry32(seedFromText(paymentId))`) to make the decision replayable
 * @returns candidates in the order to try (empty when nothing can take the payment), with reasons
 * @example
 * const decision = decide(ctx, config, { nowMs, gateways, mids, midHealth, stats }, mulberry32(seedFromText(paymentId)))
 * log.info('payments.routing.decided', { paymentId, reasons: decision.reasons })
 */
export function decide(ctx: PaymentContext, config: RoutingConfig, state: RoutingInputs, rng: Rng): Decision {
  const segment = segmentOf(ctx, config.successRate.segmentBy)
  const reasons: string[] = []
  const excluded: Exclusion[] = []
  const catalog = new Map(state.gateways.map((g) => [g.id, g]))
  const health = new Map(state.midHealth.map((h) => [h.midId, h]))
  const checked = new Map<string, Eligible | null>()

  // each gateway is judged once, so a gateway in both a rule and the default order is excluded once
  const eligible = (gateway: string): Eligible | null => {
    if (checked.has(gateway)) return checked.get(gateway)!
    let result: Eligible | null = null
    const problem = gatewayProblem(catalog.get(gateway), ctx, state.stats, state.nowMs)
    if (problem) {
      excluded.push({ gateway, midId: null, reason: problem })
      reasons.push(`gateway ${gateway} excluded: ${problem}`)
    } else {
      const mids = state.mids.filter((m) => m.gateway === gateway).sort((a, b) => a.priority - b.priority || (a.midId < b.midId ? -1 : a.midId > b.midId ? 1 : 0))
      const usable: Eligible['mids'] = []
      for (const mid of mids) {
        const midHealth = health.get(mid.midId)
        const midIssue = midProblem(mid, midHealth, ctx)
        if (midIssue) {
          excluded.push({ gateway, midId: mid.midId, reason: midIssue })
          reasons.push(`mid ${mid.midId} (${gateway}) excluded: ${midIssue}`)
        } else usable.push({ mid, health: midHealth })
      }
      if (usable.length > 0) result = { gateway, mids: usable }
      else {
        const reason = mids.length === 0 ? 'no MID configured' : 'no eligible MID'
        excluded.push({ gateway, midId: null, reason })
        reasons.push(`gateway ${gateway} excluded: ${reason}`)
      }
    }
    checked.set(gateway, result)
    return result
  }

  const rule = firstMatchingRule(config.rules, ctx)
  let ruleId: string | null = null
  let ordered: Ordered | null = null
  if (rule) {
    const conditions = rule.conditions.length === 0 ? 'no conditions' : rule.conditions.map(describeCondition).join(' and ')
    reasons.push(`rule ${rule.id} matched (${conditions})`)
    ordered = order(rule.output, `rule ${rule.id}`, eligible, config, state.stats, segment, rng, reasons)
    if (ordered) ruleId = rule.id
    else reasons.push(`rule ${rule.id} left no eligible gateway: default order instead`)
  } else {
    reasons.push(config.rules.length === 0 ? 'no rules configured: default order' : `none of ${config.rules.length} rules matched: default order`)
  }
  ordered ??= order({ type: 'priority', gateways: config.defaultOrder }, 'default order', eligible, config, state.stats, segment, rng, reasons)

  const candidates: Candidate[] = []
  for (const gateway of ordered?.gateways ?? []) {
    const entry = checked.get(gateway)!
    for (const { mid, health: midHealth } of entry.mids) {
      candidates.push({ gateway, midId: mid.midId, reasons: [...(ordered!.why.get(gateway) ?? []), midStanding(mid, midHealth)] })
    }
  }
  reasons.push(
    candidates.length === 0
      ? 'no eligible gateway and MID: the payment cannot be routed'
      : `candidates: ${candidates.map((c) => `${c.gateway}/${c.midId}`).join(', ')}`,
  )
  return { candidates, reasons, ruleId, segment, explored: ordered?.explored ?? false, excluded }
}

/** The eligible gateways of one output in the order to try them, or null when none is eligible. */
function order(
  output: RuleOutput,
  source: string,
  eligible: (gateway: string) => Eligible | null,
  config: RoutingConfig,
  stats: RoutingState,
  segment: string,
  rng: Rng,
  reasons: string[],
): Ordered | null {
  if (output.type === 'volume_split') {
    const splits = output.splits.filter((s) => eligible(s.gateway) !== null)
    if (splits.length === 0) return null
    const total = splits.reduce((sum, s) => sum + s.percent, 0)
    const draw = rng() * total
    let cumulative = 0
    const picked = splits.find((s) => (cumulative += s.percent) > draw) ?? splits[splits.length - 1]!
    const shares = splits.map((s) => `${s.gateway} ${s.percent}`).join(' / ')
    const renormalised = total === 100 ? '' : ` (renormalised over the eligible gateways, total ${total})`
    reasons.push(`${source}: volume split ${shares}${renormalised}, draw ${draw.toFixed(2)} -> ${picked.gateway}`)
    // Array.prototype.sort is stable: equal shares keep the configured order
    const rest = splits.filter((s) => s !== picked).sort((a, b) => b.percent - a.percent)
    const why = new Map<string, string[]>([[picked.gateway, [`${source}: drawn by volume split (${picked.percent} of ${total})`]]])
    rest.forEach((s, i) => why.set(s.gateway, [`${source}: volume split fallback #${i + 1} (${s.percent} of ${total})`]))
    return { gateways: [picked.gateway, ...rest.map((s) => s.gateway)], why, explored: false }
  }

  const listed = output.gateways.filter((g) => eligible(g) !== null)
  if (listed.length === 0) return null
  const ranking = output.ranking ?? (config.successRate.enabled ? 'success_rate' : 'static')
  if (ranking === 'static' || listed.length === 1) {
    const why = new Map(listed.map((g, i) => [g, [`${source}: priority #${i + 1}`]]))
    return { gateways: listed, why, explored: false }
  }
  return rankBySuccess(listed, source, config, stats, segment, rng, reasons)
}

/**
 * Highest success rate in the segment first (ties and gateways without `minSamples` keep the
 * configured order, the latter after all rated ones); then, with probability explorationBps / 10000,
 * one of the others is moved to the front so every gateway keeps gathering evidence.
 */
function rankBySuccess(listed: string[], source: string, config: RoutingConfig, stats: RoutingState, segment: string, rng: Rng, reasons: string[]): Ordered {
  const { windowSize, minSamples, explorationBps } = config.successRate
  const rows = listed.map((gateway, position) => ({ gateway, position, ...windowStats(stats, gateway, segment, windowSize) }))
  // integer cross-multiplication: no float ties between equal rates over different sample counts
  const rated = rows.filter((r) => r.samples >= minSamples).sort((a, b) => b.approved * a.samples - a.approved * b.samples || a.position - b.position)
  const unrated = rows.filter((r) => r.samples < minSamples)
  const ranked = [...rated, ...unrated]
  const why = new Map<string, string[]>()
  ranked.forEach((r, i) => {
    const basis = r.samples >= minSamples ? `success rate ${percent(r.approved, r.samples)} over ${r.samples}` : `${r.samples} samples, fewer than ${minSamples}`
    why.set(r.gateway, [`${source}: success-rate rank #${i + 1} in ${segment} (${basis})`])
  })
  const summary = ranked.map((r) => (r.samples >= minSamples ? `${r.gateway} ${percent(r.approved, r.samples)} (${r.approved}/${r.samples})` : `${r.gateway} unrated (${r.samples}/${minSamples} samples)`))
  reasons.push(`${source}: ranked by success rate in ${segment}: ${summary.join(', ')}${rated.length === 0 ? '; no gateway rated yet, configured order kept' : ''}`)

  let gateways = ranked.map((r) => r.gateway)
  let explored = false
  if (explorationBps > 0) {
    const draw = rng()
    const share = explorationBps / 10_000
    if (draw < share) {
      const chosen = gateways[1 + Math.floor(rng() * (gateways.length - 1))]!
      reasons.push(`${source}: exploring (${explorationBps} bps, draw ${draw.toFixed(4)} < ${share.toFixed(4)}): ${chosen} tried before ${gateways[0]}`)
      why.get(chosen)!.push(`${source}: moved first by exploration`)
      gateways = [chosen, ...gateways.filter((g) => g !== chosen)]
      explored = true
    } else {
      reasons.push(`${source}: no exploration (draw ${draw.toFixed(4)} >= ${share.toFixed(4)})`)
    }
  }
  return { gateways, why, explored }
}
