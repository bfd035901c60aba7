/**
 * The sandbox processor: pays any method type, moves no money, and lets dev and tests choose the
 * outcome of each payout. It talks to an in-process simulated server through its own `Transport`
 * (the injected one is not used: nothing leaves the Worker), so timeouts and 503s travel the same
 * path as with a real processor. State lives in an injected `SandboxStore` (a Map in tests; a
 * Durable Object or D1 later). Everything is deterministic: refs derive from the key, time from
 * the injected clock.
 *
 * Directive per payout (first match wins):
 * 1. `settings.outcomes[payoutId]`
 * 2. a token in the description: `[sandbox:decline]`, `[sandbox:timeout]`, `[sandbox:503]`,
 *    `[sandbox:delay=60000]` (settle 60 s after submit)
 * 3. `settings.defaultOutcome`, else success.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { PayoutMethod } from '../methods/methods'
import { isTransientStatus, type HttpRequest, type HttpResponse, type PayoutOutcome, type PayoutProcessor, type PayoutRequest, type Transport } from './types'

export type SandboxDirective =
  /** settled at once */
  | { outcome: 'success'; feeMinor?: number }
  /** business decline (never retried) */
  | { outcome: 'decline'; code?: string; reason?: string }
  /**
   * the sandbox transport rejects (as a timeout would). `accepted` (default true): the transfer is
   * recorded before the answer is lost, the worst case for double payment. `attempts`: only the
   * first N submits of this key time out (default: all).
   */
  | { outcome: 'timeout'; accepted?: boolean; attempts?: number }
  /** HTTP 503 (nothing recorded); `attempts` as for timeout; `retryAfterS` sent as Retry-After */
  | { outcome: 'unavailable'; attempts?: number; retryAfterS?: number }
  /** submitted now; `status()` settles (or, with `then: 'declined'`, bounces) once `afterMs` passed */
  | { outcome: 'delayed'; afterMs: number; then?: 'settled' | 'declined' }

export interface SandboxSettings {
  outcomes?: Record<string, SandboxDirective>
  defaultOutcome?: SandboxDirective
}

/** What the sandbox remembers per idempotency key. */
export interface SandboxTransfer {
  ref: string
  idempotencyKey: string
  payoutId: string
  amount: { minor: number; currency: string }
  methodType: PayoutMethod['type']
  /** fingerprint of amount + method: the same key with another payout is refused */
  fingerprint: string
  createdAtMs: number
  /** settled, declined, or pending until `settleAtMs` */
  state: 'settled' | 'declined' | 'pending'
  settleAtMs?: number
  then?: 'settled' | 'declined'
  feeMinor?: number
  declineCode?: string
  declineReason?: string
}

/** Injected state. Keys: `transfer:{idempotencyKey}`, `ref:{ref}` -> key, `attempts:{idempotencyKey}`. */
export interface SandboxStore {
  get(key: string): Promise<string | undefined>
  put(key: string, value: string): Promise<void>
}

/** A `SandboxStore` over a Map (tests, dev). */
export function mapSandboxStore(map: Map<string, string> = new Map()): SandboxStore {
  return {
    get: async (key) => map.get(key),
    put: async (key, value) => {
      map.set(key, value)
    },
  }
}

export interface SandboxOptions {
  store: SandboxStore
  /** epoch ms; injected so delayed settlement is deterministic */
  now?: () => number
}

export const SANDBOX_METHODS: ReadonlyArray<PayoutMethod['type']> = ['paxum', 'epayservice', 'wise', 'payoneer', 'crypto', 'ach', 'sepa', 'wire', 'check']

const SANDBOX_URL = 'https://sandbox.payouts.invalid/v1'

/** Reads the directive for a payout (see the module notes). */
export function sandboxDirective(settings: SandboxSettings, request: PayoutRequest): SandboxDirective {
  const explicit = settings.outcomes?.[request.payoutId]
  if (explicit) return explicit
  const token = /\[sandbox:([a-z0-9]+)(?:=([0-9]+))?\]/.exec(request.description)
  if (token) {
    switch (token[1]) {
      case 'success':
        return { outcome: 'success' }
      case 'decline':
        return { outcome: 'decline' }
      case 'timeout':
        return { outcome: 'timeout' }
      case '503':
        return { outcome: 'unavailable' }
      case 'delay':
        return { outcome: 'delayed', afterMs: Number(token[2] ?? 0) }
    }
  }
  return settings.defaultOutcome ?? { outcome: 'success' }
}

export const sandboxRef = (idempotencyKey: string) => `sbx_${bytesToHex(sha256(new TextEncoder().encode(idempotencyKey))).slice(0, 24)}`

const fingerprintOf = (request: PayoutRequest) => bytesToHex(sha256(new TextEncoder().encode(JSON.stringify([request.amount.minor, request.amount.currency, request.method]))))

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

/** The simulated server and its transport: POST /payouts submits, GET /payouts/{key} reads. */
export function sandboxTransport(options: SandboxOptions): Transport {
  const { store } = options
  const now = options.now ?? Date.now

  const load = async (idempotencyKey: string): Promise<SandboxTransfer | undefined> => {
    const raw = await store.get(`transfer:${idempotencyKey}`)
    return raw === undefined ? undefined : (JSON.parse(raw) as SandboxTransfer)
  }
  const save = async (t: SandboxTransfer) => {
    await store.put(`transfer:${t.idempotencyKey}`, JSON.stringify(t))
    await store.put(`ref:${t.ref}`, t.idempotencyKey)
  }

  /** the state as seen at `now`: a pending transfer past its time settles (or bounces) */
  const view = async (t: SandboxTransfer): Promise<SandboxTransfer> => {
    if (t.state === 'pending' && t.settleAtMs !== undefined && now() >= t.settleAtMs) {
      const next: SandboxTransfer = { ...t, state: t.then ?? 'settled' }
      if (next.state === 'declined') {
        next.declineCode = 'SANDBOX_RETURNED'
        next.declineReason = 'sandbox: returned by the receiving side after the delay'
      }
      await save(next)
      return next
    }
    return t
  }

  return async (request: HttpRequest) => {
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/v1/payouts') {
      const { directive, payout } = JSON.parse(request.body ?? '{}') as { directive: SandboxDirective; payout: PayoutRequest }
      const attemptsKey = `attempts:${payout.idempotencyKey}`
      const attempt = Number((await store.get(attemptsKey)) ?? '0') + 1
      await store.put(attemptsKey, String(attempt))

      const failing = (directive.outcome === 'timeout' || directive.outcome === 'unavailable') && (directive.attempts === undefined || attempt <= directive.attempts)
      if (failing && directive.outcome === 'unavailable') {
        return json(503, { code: 'SANDBOX_UNAVAILABLE', message: 'sandbox: service unavailable' }, directive.retryAfterS !== undefined ? { 'retry-after': String(directive.retryAfterS) } : {})
      }

      let transfer = await load(payout.idempotencyKey)
      if (transfer) {
        if (transfer.fingerprint !== fingerprintOf(payout)) {
          return json(422, { code: 'IDEMPOTENCY_KEY_REUSED', message: 'sandbox: this idempotency key was used for another payout' })
        }
      } else if (!(failing && directive.outcome === 'timeout' && directive.accepted === false)) {
        transfer = {
          ref: sandboxRef(payout.idempotencyKey),
          idempotencyKey: payout.idempotencyKey,
          payoutId: payout.payoutId,
          amount: payout.amount,
          methodType: payout.method.type,
          fingerprint: fingerprintOf(payout),
          createdAtMs: now(),
          state: 'settled',
        }
        if (directive.outcome === 'decline') {
          transfer.state = 'declined'
          transfer.declineCode = directive.code ?? 'SANDBOX_DECLINED'
          transfer.declineReason = directive.reason ?? 'sandbox: declined by directive'
        } else if (directive.outcome === 'delayed') {
          transfer.state = 'pending'
          transfer.settleAtMs = now() + directive.afterMs
          if (directive.then) transfer.then = directive.then
        } else if (directive.outcome === 'success' && directive.feeMinor !== undefined) {
          transfer.feeMinor = directive.feeMinor
        }
        await save(transfer)
      }
      if (failing) throw new Error('sandbox: request timed out')
      // transfer is defined here: only a non-accepted timeout skips creation, and it threw above
      return json(200, await view(transfer!))
    }
    const match = /^\/v1\/payouts\/(.+)$/.exec(url.pathname)
    if (request.method === 'GET' && match) {
      let key = decodeURIComponent(match[1]!)
      if (key.startsWith('sbx_')) key = (await store.get(`ref:${key}`)) ?? key
      const transfer = await load(key)
      if (!transfer) return json(404, { code: 'NOT_FOUND', message: 'sandbox: no payout under this key' })
      return json(200, await view(transfer))
    }
    return json(404, { code: 'NO_ROUTE', message: `sandbox: ${request.method} ${url.pathname}` })
  }
}

function toOutcome(t: SandboxTransfer): PayoutOutcome {
  const fee = t.feeMinor !== undefined ? { feeMinor: t.feeMinor } : {}
  if (t.state === 'settled') return { status: 'settled', processorRef: t.ref, ...fee }
  if (t.state === 'declined') return { status: 'declined', code: t.declineCode ?? 'SANDBOX_DECLINED', reason: t.declineReason ?? 'sandbox: declined' }
  return { status: 'submitted', processorRef: t.ref, ...fee }
}

async function send(transport: Transport, request: HttpRequest): Promise<PayoutOutcome | SandboxTransfer> {
  let res: HttpResponse
  try {
    res = await transport(request)
  } catch (err) {
    return { status: 'retryable', code: 'SANDBOX_TIMEOUT', reason: err instanceof Error ? err.message : String(err) }
  }
  const body = JSON.parse(res.body) as Record<string, unknown>
  if (res.status === 200) return body as unknown as SandboxTransfer
  if (res.status === 404) return { status: 'retryable', code: 'SANDBOX_NOT_FOUND', reason: 'the sandbox has no payout under this key: resubmit with the same key' }
  const code = String(body.code ?? `HTTP_${res.status}`)
  if (isTransientStatus(res.status)) {
    const after = Number(res.headers['retry-after'])
    return { status: 'retryable', code, reason: String(body.message ?? res.status), ...(Number.isFinite(after) ? { retryAfterMs: after * 1000 } : {}) }
  }
  return { status: 'declined', code, reason: String(body.message ?? res.status) }
}

const isOutcome = (v: PayoutOutcome | SandboxTransfer): v is PayoutOutcome => 'status' in v

/** The sandbox as a `PayoutProcessor`, bound to its store and clock. */
export function createSandboxProcessor(options: SandboxOptions): PayoutProcessor<SandboxSettings> {
  const transport = sandboxTransport(options)
  return {
    id: 'sandbox',
    methods: SANDBOX_METHODS,
    async submit(settings, request) {
      const directive = sandboxDirective(settings, request)
      const res = await send(transport, { method: 'POST', url: `${SANDBOX_URL}/payouts`, headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey }, body: JSON.stringify({ directive, payout: request }) })
      return isOutcome(res) ? res : toOutcome(res)
    },
    async status(_settings, request, processorRef) {
      const res = await send(transport, { method: 'GET', url: `${SANDBOX_URL}/payouts/${encodeURIComponent(processorRef ?? request.idempotencyKey)}`, headers: {} })
      return isOutcome(res) ? res : toOutcome(res)
    },
  }
}
