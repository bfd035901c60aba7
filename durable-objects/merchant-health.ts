/**
 * MerchantHealth: one per merchant ID (`getByName('mid:<midId>')`): settled transactions, disputes
 * and fraud reports by network and month, and the MID's standing in the card networks' monitoring
 * programmes (issue 4 §5; the rules are data in workers/payments/health/thresholds.ts).
 *
 * Counting is exactly-once per event id: the id's row and the counters it moves are written in one
 * `transactionSync`, so a redelivered event (also twenty copies at once) changes nothing, and the
 * same id with other content is reported as a conflict instead of being counted again.
 *
 * Alerts: after every write (and at each month's start, by alarm, when the counters roll over) the
 * standing of the running month is compared with the last one alerted on, inside the same
 * transaction; a change of any level or of the drain flag is queued in `alerts`. The queue is then
 * delivered in order, at least once: `merchant_ids.status` in D1 first (a conditional, repeatable
 * write), then the audit entry `payments.mid.alert`; a failure leaves the alert queued and an alarm
 * retries it.
 *
 * Storage (SQLite):
 * | table | row |
 * |---|---|
 * | events | `id` (caller's event id), kind, network, month, fingerprint (RFC 8785 JSON of the event) |
 * | counts | (month, network, metric) -> count, usd_minor (sum of known USD values), usd_unknown |
 * | sums | (month, network, metric, currency) -> amount_minor |
 * | settings | margin_bps, floor_margin_pct, alerted (JSON of the last alerted snapshot) |
 * | alerts | seq, at_ms, drain, details (JSON), delivered_at_ms |
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import { audit } from '../workers/compliance/audit'
import { log } from '../workers/edge/logger'
import { canonicalJson } from '../workers/lib/canonical-json'
import type { JsonObject } from '../workers/lib/json'
import { eventAtMs, HealthEvent, usdValue, type HealthEventInput, type Network } from '../workers/payments/health/events'
import { findMid, setDraining } from '../workers/payments/health/mids'
import {
  DEFAULT_FLOOR_MARGIN_PCT,
  DEFAULT_MARGIN_BPS,
  isMonth,
  monthEndMs,
  monthOf,
  PROGRAMMES,
  standing,
  ZERO_COUNTS,
  type MastercardLevel,
  type MidRegion,
  type Month,
  type MonthCounts,
  type Standing,
  type VisaLevel,
} from '../workers/payments/health/thresholds'
import { migrateSql } from './sql-migrations'

const MIGRATIONS = [
  `CREATE TABLE events (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     network TEXT NOT NULL,
     month TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     recorded_at_ms INTEGER NOT NULL
   );
   CREATE TABLE counts (
     month TEXT NOT NULL,
     network TEXT NOT NULL,
     metric TEXT NOT NULL,
     count INTEGER NOT NULL,
     usd_minor INTEGER NOT NULL,
     usd_unknown INTEGER NOT NULL,
     PRIMARY KEY (month, network, metric)
   );
   CREATE TABLE sums (
     month TEXT NOT NULL,
     network TEXT NOT NULL,
     metric TEXT NOT NULL,
     currency TEXT NOT NULL,
     amount_minor INTEGER NOT NULL,
     PRIMARY KEY (month, network, metric, currency)
   );
   CREATE TABLE settings (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     margin_bps INTEGER NOT NULL,
     floor_margin_pct INTEGER NOT NULL,
     alerted TEXT
   );
   CREATE TABLE alerts (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at_ms INTEGER NOT NULL,
     drain INTEGER NOT NULL,
     details TEXT NOT NULL,
     delivered_at_ms INTEGER
   );
   CREATE INDEX alerts_pending ON alerts(delivered_at_ms, seq);`,
]

/** What each event moves. `sales`, `disputes`, `fraud_reports` also keep sums per currency. */
export type Metric =
  | 'sales'
  | 'sales_3ds'
  | 'disputes'
  | 'fraud_disputes'
  | 'vamp_disputes'
  | 'efm_fraud_chargebacks'
  | 'fraud_reports'
  | 'vamp_fraud_reports'

const SUMMED: ReadonlySet<Metric> = new Set(['sales', 'disputes', 'fraud_reports'])
const RETRY_DELIVERY_MS = 30_000
/** re-evaluate a minute into each month, when the running month's counters start from zero */
const ROLLOVER_DELAY_MS = 60_000

export type RecordResult =
  | { ok: true; recorded: number; duplicates: number; conflicts: string[]; drain: boolean }
  | { ok: false; code: 'INVALID_EVENT'; index: number; message: string }

export interface StandingQuery {
  nowMs?: number
  /** overrides the MID's configured margin for this answer only */
  marginBps?: number
  floorMarginPct?: number
  /** a past month (evaluated as complete); default: the running month */
  month?: Month
}

export type StandingResult = { ok: true; standing: Standing } | { ok: false; code: 'INVALID_MONTH' | 'INVALID_MARGIN'; message: string }

export interface MetricRow {
  network: Network
  metric: Metric
  count: number
  usdMinor: number
  usdUnknown: number
}

export interface SumRow {
  network: Network
  metric: Metric
  currency: string
  amountMinor: number
}

export interface MonthlyResult {
  month: Month
  metrics: MetricRow[]
  sums: SumRow[]
  standing: Standing
}

export interface HealthSettings {
  marginBps: number
  floorMarginPct: number
}

export interface CapUsage {
  month: Month
  currency: string
  usedMinor: number
}

/** The snapshot an alert compares: levels and the drain flag. */
interface Alerted {
  visa: VisaLevel
  mastercard: MastercardLevel
  efm: boolean
  drain: boolean
}

const NOTHING_ALERTED: Alerted = { visa: 'standard', mastercard: 'none', efm: false, drain: false }

const EFM_CODES: ReadonlySet<string> = new Set(PROGRAMMES.mastercard.efm.fraudReasonCodes)

function metricsOf(event: HealthEvent): Metric[] {
  switch (event.kind) {
    case 'settled':
      return event.threeDs ? ['sales', 'sales_3ds'] : ['sales']
    case 'dispute': {
      const m: Metric[] = ['disputes']
      if (event.fraud) m.push('fraud_disputes')
      if (event.network === 'visa' && !event.rdrResolved && !event.ce3Qualified) m.push('vamp_disputes')
      if (event.network === 'mastercard' && EFM_CODES.has(event.reasonCode)) m.push('efm_fraud_chargebacks')
      return m
    }
    case 'fraud_report':
      return event.ce3Qualified ? ['fraud_reports'] : ['fraud_reports', 'vamp_fraud_reports']
  }
}

export class MerchantHealth extends DurableObject<Env> {
  #region: { value: MidRegion; atMs: number } | null = null
  #delivering: Promise<void> | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.blockConcurrencyWhile(async () => {
      migrateSql(ctx.storage, MIGRATIONS)
      ctx.storage.sql.exec('INSERT OR IGNORE INTO settings (id, margin_bps, floor_margin_pct, alerted) VALUES (1, ?, ?, NULL)', DEFAULT_MARGIN_BPS, DEFAULT_FLOOR_MARGIN_PCT)
    })
  }

  /** The MID this object watches, from its name `mid:<midId>`. */
  #midId(): string {
    const name = this.ctx.id.name
    if (!name?.startsWith('mid:')) throw new Error('MerchantHealth must be addressed by name as mid:<midId>')
    return name.slice(4)
  }

  /** The MID's region from D1, cached for a minute (MENA has other VAMP floors); `global` when unknown. */
  async #loadRegion(nowMs: number): Promise<MidRegion> {
    if (this.#region && nowMs - this.#region.atMs < 60_000 && nowMs >= this.#region.atMs) return this.#region.value
    const row = await findMid(this.env.DB, this.#midId())
    const value = row?.region ?? 'global'
    this.#region = { value, atMs: nowMs }
    return value
  }

  #settings(): HealthSettings & { alerted: Alerted } {
    const row = this.ctx.storage.sql
      .exec<{ margin_bps: number; floor_margin_pct: number; alerted: string | null }>('SELECT margin_bps, floor_margin_pct, alerted FROM settings WHERE id = 1')
      .one()
    return { marginBps: row.margin_bps, floorMarginPct: row.floor_margin_pct, alerted: row.alerted ? (JSON.parse(row.alerted) as Alerted) : NOTHING_ALERTED }
  }

  /** Counts of every month up to `month`, in the shape thresholds.ts reads. */
  #countsUpTo(month: Month): Record<Month, MonthCounts> {
    const rows = this.ctx.storage.sql
      .exec<{ month: string; network: Network; metric: Metric; count: number; usd_minor: number }>(
        'SELECT month, network, metric, count, usd_minor FROM counts WHERE month <= ? AND network IN (?, ?)',
        month,
        'visa',
        'mastercard',
      )
      .toArray()
    const out: Record<Month, MonthCounts> = {}
    for (const r of rows) {
      const c = (out[r.month] ??= { ...ZERO_COUNTS })
      if (r.network === 'visa') {
        if (r.metric === 'sales') c.visaSettled = r.count
        else if (r.metric === 'vamp_disputes') (c.visaVampDisputes = r.count), (c.visaVampUsdMinor += r.usd_minor)
        else if (r.metric === 'vamp_fraud_reports') (c.visaVampFraudReports = r.count), (c.visaVampUsdMinor += r.usd_minor)
      } else {
        if (r.metric === 'sales') c.mcSales = r.count
        else if (r.metric === 'sales_3ds') c.mcSales3ds = r.count
        else if (r.metric === 'disputes') c.mcChargebacks = r.count
        else if (r.metric === 'efm_fraud_chargebacks') (c.mcFraudChargebacks = r.count), (c.mcFraudChargebackUsdMinor = r.usd_minor)
      }
    }
    return out
  }

  #standing(region: MidRegion, month: Month, partial: boolean, options: { marginBps?: number; floorMarginPct?: number } = {}): Standing {
    const s = this.#settings()
    return standing(this.#countsUpTo(month), month, region, {
      marginBps: options.marginBps ?? s.marginBps,
      floorMarginPct: options.floorMarginPct ?? s.floorMarginPct,
      partial,
    })
  }

  #apply(event: HealthEvent, month: Month): void {
    const sql = this.ctx.storage.sql
    const usd = usdValue(event)
    for (const metric of metricsOf(event)) {
      sql.exec(
        `INSERT INTO counts (month, network, metric, count, usd_minor, usd_unknown) VALUES (?, ?, ?, 1, ?, ?)
         ON CONFLICT (month, network, metric) DO UPDATE SET count = count + 1, usd_minor = usd_minor + excluded.usd_minor, usd_unknown = usd_unknown + excluded.usd_unknown`,
        month, event.network, metric, usd ?? 0, usd === null ? 1 : 0,
      )
      if (SUMMED.has(metric)) {
        sql.exec(
          `INSERT INTO sums (month, network, metric, currency, amount_minor) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (month, network, metric, currency) DO UPDATE SET amount_minor = amount_minor + excluded.amount_minor`,
          month, event.network, metric, event.currency, event.amountMinor,
        )
      }
    }
  }

  /**
   * Compares the running month's standing with the last alerted one and queues an alert when a
   * level or the drain flag changed. Synchronous: call inside the transaction that changed counts.
   */
  #evaluate(region: MidRegion, nowMs: number): Standing {
    const month = monthOf(nowMs)
    const s = this.#standing(region, month, true)
    const previous = this.#settings().alerted
    const next: Alerted = { visa: s.visa.level, mastercard: s.mastercard.level, efm: s.mastercard.efm.met, drain: s.drain }
    if (canonicalJson(previous) !== canonicalJson(next)) {
      const details: JsonObject = {
        mid_id: this.#midId(),
        month,
        region,
        from: { ...previous },
        to: { ...next },
        reasons: s.reasons,
        visa: { level: s.visa.level, since: s.visa.since, ratio_bps: s.visa.ratio.bps, count: s.visa.count, settled: s.visa.ratio.denominator, threshold_bps: s.visa.thresholdBps },
        mastercard: {
          level: s.mastercard.level,
          since: s.mastercard.since,
          ctr_bps: s.mastercard.ctr.bps,
          chargebacks: s.mastercard.ctr.numerator,
          prev_month_sales: s.mastercard.ctr.denominator,
          efm: s.mastercard.efm.met,
          efm_since: s.mastercard.efm.since,
        },
      }
      this.ctx.storage.sql.exec('INSERT INTO alerts (at_ms, drain, details) VALUES (?, ?, ?)', nowMs, next.drain ? 1 : 0, canonicalJson(details))
      this.ctx.storage.sql.exec('UPDATE settings SET alerted = ? WHERE id = 1', canonicalJson(next))
    }
    return s
  }

  /** Delivers queued alerts in order; one delivery loop at a time per object. */
  async #deliver(): Promise<void> {
    if (this.#delivering) return this.#delivering
    let run!: Promise<void>
    run = (async () => {
      // yield first: `finally` below must not run before `#delivering` holds this promise
      await Promise.resolve()
      try {
        for (;;) {
          const next = this.ctx.storage.sql
            .exec<{ seq: number; at_ms: number; drain: number; details: string }>('SELECT seq, at_ms, drain, details FROM alerts WHERE delivered_at_ms IS NULL ORDER BY seq LIMIT 1')
            .toArray()[0]
          if (!next) return
          const midId = this.#midId()
          const statusFrom = await setDraining(this.env.DB, midId, next.drain === 1, next.at_ms)
          const details = JSON.parse(next.details) as JsonObject
          details.status_changed = statusFrom === null ? null : { from: statusFrom, to: next.drain === 1 ? 'draining' : 'active' }
          await audit({ env: this.env, actor: 'system:merchant-health' }, 'payments.mid.alert', midId, details)
          this.ctx.storage.sql.exec('UPDATE alerts SET delivered_at_ms = ? WHERE seq = ?', Date.now(), next.seq)
        }
      } catch (err) {
        log('error', 'error', 'merchant_health_alert_delivery_failed', { error: err instanceof Error ? err.message : String(err) })
        await this.ctx.storage.setAlarm(Date.now() + RETRY_DELIVERY_MS)
      } finally {
        if (this.#delivering === run) this.#delivering = null
      }
    })()
    this.#delivering = run
    return run
  }

  async #scheduleRollover(nowMs: number): Promise<void> {
    const due = monthEndMs(monthOf(nowMs)) + ROLLOVER_DELAY_MS
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > due) await this.ctx.storage.setAlarm(due)
  }

  /**
   * Counts a batch of events, each id once. A batch with an invalid event is refused whole.
   * `nowMs` (tests, replays) decides the running month for the alert check; callers pass nothing.
   */
  async record(events: HealthEventInput[], options: { nowMs?: number } = {}): Promise<RecordResult> {
    const nowMs = options.nowMs ?? Date.now()
    const parsed: HealthEvent[] = []
    for (const [index, input] of events.entries()) {
      const result = HealthEvent.safeParse(input)
      if (!result.success) {
        const issue = result.error.issues[0]
        return { ok: false, code: 'INVALID_EVENT', index, message: `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}` }
      }
      parsed.push(result.data)
    }
    const region = await this.#loadRegion(nowMs)
    const sql = this.ctx.storage.sql
    const outcome = this.ctx.storage.transactionSync(() => {
      let recorded = 0
      let duplicates = 0
      const conflicts: string[] = []
      for (const event of parsed) {
        const month = monthOf(eventAtMs(event))
        const fingerprint = canonicalJson(event)
        sql.exec(
          'INSERT INTO events (id, kind, network, month, fingerprint, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
          event.id, event.kind, event.network, month, fingerprint, nowMs,
        )
        if (sql.exec<{ n: number }>('SELECT changes() AS n').one().n === 1) {
          this.#apply(event, month)
          recorded += 1
          continue
        }
        const stored = sql.exec<{ fingerprint: string }>('SELECT fingerprint FROM events WHERE id = ?', event.id).one()
        if (stored.fingerprint === fingerprint) duplicates += 1
        else conflicts.push(event.id)
      }
      const s = this.#evaluate(region, nowMs)
      return { recorded, duplicates, conflicts, drain: s.drain }
    })
    await this.#deliver()
    // the real clock, also when a test or replay passes `nowMs`: the alarm evaluates the real month
    await this.#scheduleRollover(Date.now())
    return { ok: true, ...outcome }
  }

  /** The MID's standing in the running month (or a past one), with its configured or the given margins. */
  async standing(query: StandingQuery = {}): Promise<StandingResult> {
    const nowMs = query.nowMs ?? Date.now()
    const current = monthOf(nowMs)
    const month = query.month ?? current
    if (!isMonth(month) || month > current) return { ok: false, code: 'INVALID_MONTH', message: `month must be YYYY-MM, not after ${current}` }
    if (query.marginBps !== undefined && (!Number.isInteger(query.marginBps) || query.marginBps < 0 || query.marginBps > 10_000)) {
      return { ok: false, code: 'INVALID_MARGIN', message: 'marginBps must be an integer 0..10000' }
    }
    if (query.floorMarginPct !== undefined && (!Number.isInteger(query.floorMarginPct) || query.floorMarginPct < 0 || query.floorMarginPct > 100)) {
      return { ok: false, code: 'INVALID_MARGIN', message: 'floorMarginPct must be an integer 0..100' }
    }
    const region = await this.#loadRegion(nowMs)
    return { ok: true, standing: this.#standing(region, month, month === current, query) }
  }

  /** Everything counted for `month`, with the month's standing. */
  async monthly(month: Month, options: { nowMs?: number } = {}): Promise<{ ok: true; monthly: MonthlyResult } | { ok: false; code: 'INVALID_MONTH'; message: string }> {
    const nowMs = options.nowMs ?? Date.now()
    const current = monthOf(nowMs)
    if (!isMonth(month) || month > current) return { ok: false, code: 'INVALID_MONTH', message: `month must be YYYY-MM, not after ${current}` }
    const region = await this.#loadRegion(nowMs)
    const sql = this.ctx.storage.sql
    const metrics = sql
      .exec<{ network: Network; metric: Metric; count: number; usd_minor: number; usd_unknown: number }>(
        'SELECT network, metric, count, usd_minor, usd_unknown FROM counts WHERE month = ? ORDER BY network, metric',
        month,
      )
      .toArray()
      .map((r) => ({ network: r.network, metric: r.metric, count: r.count, usdMinor: r.usd_minor, usdUnknown: r.usd_unknown }))
    const sums = sql
      .exec<{ network: Network; metric: Metric; currency: string; amount_minor: number }>(
        'SELECT network, metric, currency, amount_minor FROM sums WHERE month = ? ORDER BY network, metric, currency',
        month,
      )
      .toArray()
      .map((r) => ({ network: r.network, metric: r.metric, currency: r.currency, amountMinor: r.amount_minor }))
    return { ok: true, monthly: { month, metrics, sums, standing: this.#standing(region, month, month === current) } }
  }

  /**
   * Settled volume of the running month against a cap in `currency`: sales in that currency, plus,
   * for a USD cap, the USD value of sales in other currencies where it was reported.
   */
  capUsage(currency: string, options: { nowMs?: number } = {}): CapUsage {
    const month = monthOf(options.nowMs ?? Date.now())
    const sql = this.ctx.storage.sql
    const same = sql.exec<{ total: number | null }>("SELECT SUM(amount_minor) AS total FROM sums WHERE month = ? AND metric = 'sales' AND currency = ?", month, currency).one().total ?? 0
    let converted = 0
    if (currency === 'USD') {
      const usd = sql.exec<{ total: number | null }>("SELECT SUM(usd_minor) AS total FROM counts WHERE month = ? AND metric = 'sales'", month).one().total ?? 0
      // counts.usd_minor already holds the USD sales themselves
      converted = usd - same
    }
    return { month, currency, usedMinor: same + converted }
  }

  getSettings(): HealthSettings {
    const { marginBps, floorMarginPct } = this.#settings()
    return { marginBps, floorMarginPct }
  }

  /** Sets the drain margins and re-evaluates at once (a wider margin can start draining now). */
  async configure(settings: HealthSettings, options: { nowMs?: number } = {}): Promise<{ ok: true; settings: HealthSettings; drain: boolean } | { ok: false; code: 'INVALID_MARGIN'; message: string }> {
    const { marginBps, floorMarginPct } = settings
    if (!Number.isInteger(marginBps) || marginBps < 0 || marginBps > 10_000) return { ok: false, code: 'INVALID_MARGIN', message: 'marginBps must be an integer 0..10000' }
    if (!Number.isInteger(floorMarginPct) || floorMarginPct < 0 || floorMarginPct > 100) return { ok: false, code: 'INVALID_MARGIN', message: 'floorMarginPct must be an integer 0..100' }
    const nowMs = options.nowMs ?? Date.now()
    const region = await this.#loadRegion(nowMs)
    const s = this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec('UPDATE settings SET margin_bps = ?, floor_margin_pct = ? WHERE id = 1', marginBps, floorMarginPct)
      return this.#evaluate(region, nowMs)
    })
    await this.#deliver()
    return { ok: true, settings: { marginBps, floorMarginPct }, drain: s.drain }
  }

  /**
   * Re-reads the MID's region from D1 and re-evaluates at once (the API calls it after a region
   * change: MENA has other VAMP floors and thresholds).
   */
  async refresh(options: { nowMs?: number } = {}): Promise<{ drain: boolean }> {
    const nowMs = options.nowMs ?? Date.now()
    this.#region = null
    const region = await this.#loadRegion(nowMs)
    const s = this.ctx.storage.transactionSync(() => this.#evaluate(region, nowMs))
    await this.#deliver()
    return { drain: s.drain }
  }

  /** Month rollover and delivery retries. */
  override async alarm(): Promise<void> {
    const nowMs = Date.now()
    const hasData = this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n > 0
    if (hasData) {
      this.#region = null
      const region = await this.#loadRegion(nowMs)
      this.ctx.storage.transactionSync(() => this.#evaluate(region, nowMs))
    }
    await this.#deliver()
    if (hasData) await this.#scheduleRollover(nowMs)
  }
}
