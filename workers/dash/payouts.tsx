/**
 * FanzDash payouts (`/payouts`, `/payouts/batches/{id}`), for holders of `payouts:read` (finance,
 * admin, compliance officers): batches by state (drafts awaiting approval with approvals given and
 * required, approved, submitted, finished) with rail, currency, count, total and fee; one batch in
 * detail; the refusals of the latest run by code; payouts whose retries are exhausted (open dead
 * letters of the `fanz-payouts` queue) as open cases.
 *
 * Actions (approve, cancel, submit) are same-origin POST forms. They do not re-implement anything:
 * the handler calls the batch API (`/api/payouts/batches/{id}/...`, workers/payouts/batches/api.ts)
 * in-process with the operator's own token, so permission (`payouts:approve` / `payouts:manage`),
 * the strong recent sign-in, distinct approvers, Idempotency-Key replay and the audit entry are
 * exactly the API's. A refusal comes back as the API's problem and is shown on the batch page.
 * @module
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { Child } from 'hono/jsx'
import type { BatchState } from '../../d1/schema/payouts'
import type { AppEnv, AuthContext } from '../edge/context'
import { readForm } from '../edge/body'
import { isSameOrigin } from '../edge/same-origin'
import { platformFetch } from '../lib/platform-fetch'
import { formatMinor } from '../payments/gateways/money'
import { holds } from '../sso/roles/middleware'
import { dashPage, signInPage } from './pages'

const money = (minor: number, currency: string) => `${formatMinor({ minor, currency })} ${currency}`
const when = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))

/** Queues whose open dead letters are payout cases: the payout queue and its dead-letter queue. */
export const PAYOUT_QUEUES = ['fanz-payouts', 'fanz-payouts-dlq'] as const
/** How many finished batches the overview lists, newest first. */
export const FINISHED_BATCHES = 50

export interface BatchSummary {
  id: string
  rail: string
  currency: string
  state: BatchState
  count: number
  totalMinor: number
  feeMinor: number
  approvalsRequired: number
  approvalsGiven: number
  createdAtMs: number
  submittedAtMs: number | null
  finishedAtMs: number | null
  externalRef: string | null
}

export interface PayoutsOverview {
  drafts: BatchSummary[]
  approved: BatchSummary[]
  submitted: BatchSummary[]
  finished: BatchSummary[]
  latestRun: {
    id: string
    runDate: string
    state: string
    evaluated: number
    created: number
    refused: number
    startedAtMs: number
    /** while the queue places a large run's ledger holds (`holding`, `batching`): how far it is */
    holds: { held: number; toHold: number } | null
  } | null
  refusalsByCode: Array<{ code: string; count: number }>
  cases: Array<{
    id: string
    queue: string
    messageType: string | null
    payoutId: string | null
    attempts: number
    receivedAtMs: number
    /** the payout the case is about, as it is now */
    payout: { creatorName: string | null; state: string; amountMinor: number; currency: string; failureCode: string | null } | null
  }>
}

interface BatchRow {
  id: string
  rail: string
  currency: string
  state: BatchState
  count: number
  total_minor: number
  fee_minor: number
  approvals_required: number
  approvals_given: number
  created_at_ms: number
  submitted_at_ms: number | null
  finished_at_ms: number | null
  external_ref: string | null
}

const BATCH_COLUMNS =
  'b.id, b.rail, b.currency, b.state, b.count, b.total_minor, b.fee_minor, b.approvals_required, (SELECT COUNT(*) FROM payout_batch_approvals a WHERE a.batch_id = b.id) AS approvals_given, b.created_at_ms, b.submitted_at_ms, b.finished_at_ms, b.external_ref'

const summary = (r: BatchRow): BatchSummary => ({
  id: r.id,
  rail: r.rail,
  currency: r.currency,
  state: r.state,
  count: r.count,
  totalMinor: r.total_minor,
  feeMinor: r.fee_minor,
  approvalsRequired: r.approvals_required,
  approvalsGiven: r.approvals_given,
  createdAtMs: r.created_at_ms,
  submittedAtMs: r.submitted_at_ms,
  finishedAtMs: r.finished_at_ms,
  externalRef: r.external_ref,
})

/** The payout id a dead message was about (`payout.execute` carries it in its payload). */
function caseOf(row: { id: string; queue: string; body_json: string; attempts: number; received_at_ms: number }): PayoutsOverview['cases'][number] {
  let type: string | null = null
  try {
    const body = JSON.parse(row.body_json) as { type?: unknown }
    type = typeof body.type === 'string' ? body.type : null
  } catch {
    type = null
  }
  return { id: row.id, queue: row.queue, messageType: type, payoutId: /\bpo_[0-9A-HJKMNP-TV-Z]{26}\b/.exec(row.body_json)?.[0] ?? null, attempts: row.attempts, receivedAtMs: row.received_at_ms, payout: null }
}

export async function loadPayoutsOverview(d1: D1Database): Promise<PayoutsOverview> {
  const [open, finished, run, caseRows] = await d1.batch([
    d1.prepare(`SELECT ${BATCH_COLUMNS} FROM payout_batches b WHERE b.state IN ('draft', 'approved', 'submitted') ORDER BY b.created_at_ms, b.id`),
    d1.prepare(`SELECT ${BATCH_COLUMNS} FROM payout_batches b WHERE b.state IN ('settled', 'partially_failed', 'failed', 'cancelled') ORDER BY COALESCE(b.finished_at_ms, b.updated_at_ms) DESC, b.id DESC LIMIT ?`).bind(FINISHED_BATCHES),
    d1.prepare('SELECT id, run_date, state, evaluated, created, refused, started_at_ms FROM payout_runs ORDER BY started_at_ms DESC, id DESC LIMIT 1'),
    d1.prepare(`SELECT id, queue, body_json, attempts, received_at_ms FROM dead_letters WHERE status = 'open' AND queue IN (${PAYOUT_QUEUES.map(() => '?').join(', ')}) ORDER BY received_at_ms DESC LIMIT 100`).bind(...PAYOUT_QUEUES),
  ])
  const openRows = (open!.results as BatchRow[]).map(summary)
  const runRow = (run!.results as Array<{ id: string; run_date: string; state: string; evaluated: number; created: number; refused: number; started_at_ms: number }>)[0]
  const refusals = runRow
    ? (await d1.prepare('SELECT code, COUNT(*) AS count FROM payout_refusals WHERE run_id = ? GROUP BY code ORDER BY count DESC, code').bind(runRow.id).all<{ code: string; count: number }>()).results
    : []
  const holds =
    runRow && (runRow.state === 'holding' || runRow.state === 'batching')
      ? await d1.prepare("SELECT COUNT(hold_id) AS held, COUNT(*) AS toHold FROM payouts WHERE run_id = ? AND state != 'cancelled'").bind(runRow.id).first<{ held: number; toHold: number }>()
      : null
  const cases = (caseRows!.results as Array<{ id: string; queue: string; body_json: string; attempts: number; received_at_ms: number }>).map(caseOf)
  const ids = [...new Set(cases.map((k) => k.payoutId).filter((id): id is string => id !== null))]
  if (ids.length) {
    const { results } = await d1
      .prepare(`SELECT p.id, c.display_name, p.state, p.amount_minor, p.currency, p.failure_code FROM payouts p LEFT JOIN creators c ON c.id = p.creator_id WHERE p.id IN (${ids.map(() => '?').join(', ')})`)
      .bind(...ids)
      .all<{ id: string; display_name: string | null; state: string; amount_minor: number; currency: string; failure_code: string | null }>()
    const byId = new Map(results.map((r) => [r.id, r]))
    for (const k of cases) {
      const p = k.payoutId ? byId.get(k.payoutId) : undefined
      if (p) k.payout = { creatorName: p.display_name, state: p.state, amountMinor: p.amount_minor, currency: p.currency, failureCode: p.failure_code }
    }
  }
  return {
    drafts: openRows.filter((b) => b.state === 'draft'),
    approved: openRows.filter((b) => b.state === 'approved'),
    submitted: openRows.filter((b) => b.state === 'submitted'),
    finished: (finished!.results as BatchRow[]).map(summary),
    latestRun: runRow
      ? { id: runRow.id, runDate: runRow.run_date, state: runRow.state, evaluated: runRow.evaluated, created: runRow.created, refused: runRow.refused, startedAtMs: runRow.started_at_ms, holds }
      : null,
    refusalsByCode: refusals,
    cases,
  }
}

export interface BatchView {
  batch: BatchSummary
  approvals: Array<{ userId: string; roles: string[]; atMs: number }>
  payouts: Array<{ id: string; creatorId: string; creatorName: string | null; state: string; amountMinor: number; feeMinor: number; netMinor: number; methodSummary: string | null; attempts: number; failureCode: string | null; failureReason: string | null }>
}

export async function loadBatch(d1: D1Database, batchId: string): Promise<BatchView | null> {
  const [batch, approvals, payouts] = await d1.batch([
    d1.prepare(`SELECT ${BATCH_COLUMNS} FROM payout_batches b WHERE b.id = ?`).bind(batchId),
    d1.prepare('SELECT user_id, roles, at_ms FROM payout_batch_approvals WHERE batch_id = ? ORDER BY at_ms, user_id').bind(batchId),
    d1
      .prepare(
        'SELECT p.id, p.creator_id, c.display_name, p.state, p.amount_minor, p.fee_minor, p.net_minor, m.summary, p.attempts, p.failure_code, p.failure_reason FROM payouts p LEFT JOIN creators c ON c.id = p.creator_id LEFT JOIN payout_methods m ON m.id = p.method_id WHERE p.batch_id = ? ORDER BY p.id',
      )
      .bind(batchId),
  ])
  const row = (batch!.results as BatchRow[])[0]
  if (!row) return null
  return {
    batch: summary(row),
    approvals: (approvals!.results as Array<{ user_id: string; roles: string; at_ms: number }>).map((a) => ({ userId: a.user_id, roles: JSON.parse(a.roles) as string[], atMs: a.at_ms })),
    payouts: (
      payouts!.results as Array<{ id: string; creator_id: string; display_name: string | null; state: string; amount_minor: number; fee_minor: number; net_minor: number; summary: string | null; attempts: number; failure_code: string | null; failure_reason: string | null }>
    ).map((p) => ({
      id: p.id,
      creatorId: p.creator_id,
      creatorName: p.display_name,
      state: p.state,
      amountMinor: p.amount_minor,
      feeMinor: p.fee_minor,
      netMinor: p.net_minor,
      methodSummary: p.summary,
      attempts: p.attempts,
      failureCode: p.failure_code,
      failureReason: p.failure_reason,
    })),
  }
}

/** 401 with the sign-in page, 403 without `payouts:read`. */
export const payoutOperators = createMiddleware<AppEnv>(async (c, next) => {
  c.header('cache-control', 'private, no-store')
  c.header('vary', 'Cookie')
  const auth = c.var.auth
  if (!auth) return c.html(signInPage(c, { rejected: c.var.authError }), 401, { 'www-authenticate': 'Bearer realm="fanz"' })
  if (!holds(auth, 'payouts:read')) {
    return c.html(
      dashPage(
        c,
        'Not allowed',
        <div class="panel">
          <p class="eyebrow">Error 403</p>
          <h1>Payouts need the payouts:read permission</h1>
          <p>
            You are signed in as <code>{auth.subject}</code> ({auth.roles.join(', ') || 'no roles'}). Payouts are for finance, admins and compliance officers.
          </p>
        </div>,
      ),
      403,
    )
  }
  await next()
})

const STATE_LABEL: Record<BatchState, string> = {
  draft: 'Draft',
  approved: 'Approved',
  submitted: 'Submitted',
  settled: 'Settled',
  partially_failed: 'Partially failed',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

const ACTIONS = ['approve', 'cancel', 'submit'] as const
type Action = (typeof ACTIONS)[number]

function ActionForms({ b, auth }: { b: BatchSummary; auth: AuthContext }): Child {
  const forms: Child[] = []
  const key = crypto.randomUUID()
  if (b.state === 'draft' && holds(auth, 'payouts:approve')) {
    forms.push(
      <form method="post" action={`/payouts/batches/${b.id}/approve`} class="inline-form">
        <button type="submit">Approve batch {b.id}</button>
      </form>,
    )
  }
  if (b.state === 'approved' && holds(auth, 'payouts:manage')) {
    forms.push(
      <form method="post" action={`/payouts/batches/${b.id}/submit`} class="inline-form">
        <input type="hidden" name="idempotency_key" value={`dash-submit-${key}`} />
        <button type="submit">Submit batch {b.id}</button>
      </form>,
    )
  }
  if ((b.state === 'draft' || b.state === 'approved') && holds(auth, 'payouts:manage')) {
    forms.push(
      <form method="post" action={`/payouts/batches/${b.id}/cancel`} class="stack">
        <input type="hidden" name="idempotency_key" value={`dash-cancel-${key}`} />
        <div>
          <label for={`reason-${b.id}`}>Reason for cancelling</label>
          <input id={`reason-${b.id}`} name="reason" type="text" required minlength={3} maxlength={500} autocomplete="off" />
        </div>
        <button type="submit" class="secondary">
          Cancel batch {b.id}
        </button>
      </form>,
    )
  }
  return forms.length ? <div class="stack">{forms}</div> : null
}

const BatchTable = ({ title, id, batches, approvals }: { title: string; id: string; batches: BatchSummary[]; approvals?: boolean }) => (
  <section aria-labelledby={id}>
    <h2 id={id}>{title}</h2>
    {batches.length ? (
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">State</th>
              <th scope="col">Rail</th>
              <th scope="col">Currency</th>
              <th scope="col">Payouts</th>
              <th scope="col">Total</th>
              <th scope="col">Fee</th>
              {approvals ? <th scope="col">Approvals</th> : null}
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {batches.map((b) => (
              <tr data-batch={b.id} data-state={b.state}>
                <th scope="row">
                  <a href={`/payouts/batches/${b.id}`}>
                    <code>{b.id}</code>
                  </a>
                </th>
                <td>{STATE_LABEL[b.state]}</td>
                <td>{b.rail}</td>
                <td>{b.currency}</td>
                <td>{b.count}</td>
                <td>{money(b.totalMinor, b.currency)}</td>
                <td>{money(b.feeMinor, b.currency)}</td>
                {approvals ? (
                  <td data-approvals={`${b.approvalsGiven}/${b.approvalsRequired}`}>
                    {b.approvalsGiven} of {b.approvalsRequired}
                  </td>
                ) : null}
                <td>{when(b.createdAtMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ) : (
      <p>None.</p>
    )}
  </section>
)

export interface Notice {
  kind: 'done' | 'error'
  text: string
  stepUp?: boolean
}

const NoticeBox = ({ notice, returnTo }: { notice?: Notice; returnTo: string }) =>
  notice ? (
    <div class="alert" role={notice.kind === 'error' ? 'alert' : 'status'}>
      <p>{notice.text}</p>
      {notice.stepUp ? (
        <p>
          <a href={`/auth/login?prompt=login&return_to=${encodeURIComponent(returnTo)}`}>Sign in again with your second factor</a>, then repeat the action.
        </p>
      ) : null}
    </div>
  ) : null

function ResolveForm({ payoutId, auth }: { payoutId: string; auth: AuthContext }) {
  if (!holds(auth, 'payouts:manage')) return null
  const key = `dash-resolve-${crypto.randomUUID()}`
  return (
    <form method="post" action={`/payouts/cases/${payoutId}/resolve`} class="stack">
      <input type="hidden" name="idempotency_key" value={key} />
      <div>
        <label for={`action-${payoutId}`}>Resolution</label>
        <select id={`action-${payoutId}`} name="action" required>
          <option value="check_status">Ask the processor and apply its answer</option>
          <option value="retry">Send once more (same idempotency key)</option>
          <option value="mark_failed">Mark failed (returns the money to the creator)</option>
        </select>
      </div>
      <div>
        <label for={`reason-${payoutId}`}>Reason</label>
        <input id={`reason-${payoutId}`} name="reason" type="text" required minlength={3} maxlength={500} autocomplete="off" />
      </div>
      <button type="submit" class="secondary">
        Resolve payout {payoutId}
      </button>
    </form>
  )
}

export function payoutsOverviewPage(c: Context<AppEnv>, data: PayoutsOverview, notice?: Notice) {
  return dashPage(
    c,
    'Payouts',
    <>
      <h1>Payouts</h1>
      <NoticeBox notice={notice} returnTo="/payouts" />
      <BatchTable title="Drafts awaiting approval" id="drafts-title" batches={data.drafts} approvals />
      <BatchTable title="Approved, not yet submitted" id="approved-title" batches={data.approved} approvals />
      <BatchTable title="Submitted" id="submitted-title" batches={data.submitted} />
      <BatchTable title="Finished" id="finished-title" batches={data.finished} />

      <section aria-labelledby="refusals-title">
        <h2 id="refusals-title">Refusals of the latest run</h2>
        {data.latestRun ? (
          <>
            <p>
              Run <code>{data.latestRun.id}</code> for {data.latestRun.runDate} ({data.latestRun.state}): {data.latestRun.evaluated} evaluated, {data.latestRun.created} payouts created,{' '}
              {data.latestRun.refused} refused.
            </p>
            {data.latestRun.holds ? (
              <p data-run-holds={`${data.latestRun.holds.held}/${data.latestRun.holds.toHold}`}>
                The queue is placing the ledger holds of this run: {data.latestRun.holds.held} of {data.latestRun.holds.toHold} held
                {data.latestRun.state === 'batching' ? '; the batches are being formed.' : '; its batches are formed when the last chunk is done.'}
              </p>
            ) : null}
            {data.refusalsByCode.length ? (
              <div class="table-wrap">
                <table>
                  <caption class="visually-hidden">Refusals of the latest run by reason code</caption>
                  <thead>
                    <tr>
                      <th scope="col">Reason</th>
                      <th scope="col">Creators</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.refusalsByCode.map((r) => (
                      <tr data-refusal={r.code}>
                        <th scope="row">
                          <code>{r.code}</code>
                        </th>
                        <td>{r.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p>No refusals.</p>
            )}
          </>
        ) : (
          <p>No payout run yet.</p>
        )}
      </section>

      <section aria-labelledby="cases-title">
        <h2 id="cases-title">Open cases: payouts with retries exhausted</h2>
        {data.cases.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Dead letters of the payout queue, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Payout</th>
                  <th scope="col">Message</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Opened</th>
                  <th scope="col">Payout now</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {data.cases.map((k) => (
                  <tr data-case={k.id}>
                    <th scope="row">
                      <code>{k.id}</code>
                    </th>
                    <td>{k.payoutId ? <code>{k.payoutId}</code> : 'unknown'}</td>
                    <td>
                      {k.messageType ?? 'unreadable'} ({k.queue})
                    </td>
                    <td>{k.attempts}</td>
                    <td>{when(k.receivedAtMs)}</td>
                    <td data-payout-now={k.payoutId ?? ""}>
                      {k.payout
                        ? `${k.payout.creatorName ?? 'unknown creator'}, ${money(k.payout.amountMinor, k.payout.currency)}, ${k.payout.state}${k.payout.failureCode ? ` (${k.payout.failureCode})` : ''}`
                        : ''}
                    </td>
                    <td>{k.payoutId && k.payout ? <ResolveForm payoutId={k.payoutId} auth={c.var.auth!} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>No open payout cases.</p>
        )}
      </section>
    </>,
  )
}

export function batchPage(c: Context<AppEnv>, view: BatchView, notice?: Notice) {
  const b = view.batch
  return dashPage(
    c,
    `Batch ${b.id}`,
    <>
      <p>
        <a href="/payouts">All payouts</a>
      </p>
      <h1>
        Batch <code>{b.id}</code>
      </h1>
      <NoticeBox notice={notice} returnTo={`/payouts/batches/${b.id}`} />
      <dl class="facts">
        <dt>State</dt>
        <dd data-field="state">{STATE_LABEL[b.state]}</dd>
        <dt>Rail</dt>
        <dd>{b.rail}</dd>
        <dt>Currency</dt>
        <dd>{b.currency}</dd>
        <dt>Payouts</dt>
        <dd>{b.count}</dd>
        <dt>Total</dt>
        <dd data-field="total">{money(b.totalMinor, b.currency)}</dd>
        <dt>Fee</dt>
        <dd data-field="fee">{money(b.feeMinor, b.currency)}</dd>
        <dt>Approvals</dt>
        <dd data-field="approvals">
          {b.approvalsGiven} of {b.approvalsRequired}
          {view.approvals.length ? `: ${view.approvals.map((a) => `${a.userId} (${a.roles.join(', ')}) at ${when(a.atMs)}`).join('; ')}` : ''}
        </dd>
        <dt>Created</dt>
        <dd>{when(b.createdAtMs)}</dd>
        {b.submittedAtMs ? (
          <>
            <dt>Submitted</dt>
            <dd>{when(b.submittedAtMs)}</dd>
          </>
        ) : null}
        {b.finishedAtMs ? (
          <>
            <dt>Finished</dt>
            <dd>{when(b.finishedAtMs)}</dd>
          </>
        ) : null}
        {b.externalRef ? (
          <>
            <dt>Reference</dt>
            <dd>
              <code>{b.externalRef}</code>
            </dd>
          </>
        ) : null}
      </dl>
      <ActionForms b={b} auth={c.var.auth!} />
      <section aria-labelledby="batch-payouts-title">
        <h2 id="batch-payouts-title">Payouts</h2>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">The payouts of this batch</caption>
            <thead>
              <tr>
                <th scope="col">Payout</th>
                <th scope="col">Creator</th>
                <th scope="col">State</th>
                <th scope="col">Amount</th>
                <th scope="col">Fee</th>
                <th scope="col">Net</th>
                <th scope="col">Method</th>
                <th scope="col">Attempts</th>
                <th scope="col">Failure</th>
              </tr>
            </thead>
            <tbody>
              {view.payouts.map((p) => (
                <tr data-payout={p.id} data-state={p.state}>
                  <th scope="row">
                    <code>{p.id}</code>
                  </th>
                  <td>{p.creatorName ?? p.creatorId}</td>
                  <td>{p.state}</td>
                  <td>{money(p.amountMinor, b.currency)}</td>
                  <td>{money(p.feeMinor, b.currency)}</td>
                  <td>{money(p.netMinor, b.currency)}</td>
                  <td>{p.methodSummary ?? ''}</td>
                  <td>{p.attempts}</td>
                  <td>{p.failureCode ? `${p.failureCode}: ${p.failureReason ?? ''}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>,
  )
}

const BATCH_ID = /^pob_[0-9A-HJKMNP-TV-Z]{26}$/

export async function payoutsOverview(c: Context<AppEnv>): Promise<Response> {
  const resolved = c.req.query('resolved')
  const notice = resolved && PAYOUT_ID.test(resolved) ? { kind: 'done' as const, text: `Payout ${resolved}: resolution applied.` } : undefined
  return c.html(payoutsOverviewPage(c, await loadPayoutsOverview(c.env.DB), notice))
}

export async function batchDetailPage(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param('batchId') ?? ''
  const view = BATCH_ID.test(id) ? await loadBatch(c.env.DB, id) : null
  if (!view) return c.html(dashPage(c, 'No such batch', <p>No batch {id} exists.</p>), 404)
  const done = c.req.query('done')
  const notice = done && (ACTIONS as readonly string[]).includes(done) ? { kind: 'done' as const, text: `Done: ${done}.` } : undefined
  return c.html(batchPage(c, view, notice))
}

/** The operator's own token: the Authorization header (API clients) or the session cookie. */
function operatorToken(c: Context<AppEnv>): string | null {
  const header = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(c.req.header('authorization')?.trim() ?? '')
  return header?.[1] ?? getCookie(c, c.var.config.sessionCookie) ?? null
}

interface Forwarded {
  ok: boolean
  status: number
  text: string
  stepUp: boolean
}

/**
 * Calls a payouts API route in-process with the operator's own token: permission, step-up,
 * idempotency and audit are the API's. `key` becomes the Idempotency-Key (a fresh one when the
 * form's is missing or malformed); `body` is sent as JSON.
 */
async function forward(c: Context<AppEnv>, path: string, options: { key?: string; body?: unknown }): Promise<Forwarded> {
  const headers: Record<string, string> = { authorization: `Bearer ${operatorToken(c)}`, accept: 'application/json' }
  if (options.key !== undefined) headers['idempotency-key'] = `"${/^[A-Za-z0-9-]{8,100}$/.test(options.key) ? options.key : `dash-${crypto.randomUUID()}`}"`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const origin = new URL(c.req.url).origin
  const res = await platformFetch(c.env, c.executionCtx as ExecutionContext)(`${origin}/api/payouts${path}`, {
    method: 'POST',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  if (res.ok) {
    await res.body?.cancel()
    return { ok: true, status: res.status, text: '', stepUp: false }
  }
  const problem = (await res.json().catch(() => ({}))) as { detail?: string; errors?: Array<{ path: string; message: string }> }
  return {
    ok: false,
    status: res.status,
    text: [problem.detail ?? `the API answered ${res.status}`, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)].join(' · '),
    stepUp: res.status === 401 && /insufficient_user_authentication/.test(res.headers.get('www-authenticate') ?? ''),
  }
}

/** The HTML status for an API refusal: a step-up (401 from the API) is a 403 here, the operator is signed in. */
const pageStatus = (r: Forwarded) => (r.status === 401 ? 403 : (r.status as 400 | 403 | 404 | 409 | 422))

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '')

/**
 * POST /payouts/batches/{id}/{approve|cancel|submit}: same-origin only, then the batch API with
 * the operator's token (see the module comment). Success -> back to the batch page (303); a problem
 * -> the batch page with the API's detail and its status.
 */
export async function batchAction(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const id = c.req.param('batchId') ?? ''
  const action = c.req.param('action') as Action
  if (!BATCH_ID.test(id) || !(ACTIONS as readonly string[]).includes(action)) return c.html(dashPage(c, 'No such batch', <p>No batch {id} exists.</p>), 404)
  const form = await readForm(c)
  const r = await forward(c, `/batches/${id}/${action}`, {
    key: action === 'approve' ? undefined : field(form, 'idempotency_key'),
    body: action === 'cancel' ? { reason: field(form, 'reason') } : undefined,
  })
  if (r.ok) return c.redirect(`/payouts/batches/${id}?done=${action}`, 303)
  const view = await loadBatch(c.env.DB, id)
  if (!view) return c.html(dashPage(c, 'No such batch', <p>{r.text}</p>), 404)
  return c.html(batchPage(c, view, { kind: 'error', text: r.text, stepUp: r.stepUp }), pageStatus(r))
}

const PAYOUT_ID = /^po_[0-9A-HJKMNP-TV-Z]{26}$/
export const RESOLUTIONS = ['check_status', 'retry', 'mark_failed'] as const

/** POST /payouts/cases/{payoutId}/resolve: the payout API's resolve, for an open case. */
export async function resolveCase(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const id = c.req.param('payoutId') ?? ''
  if (!PAYOUT_ID.test(id)) return c.html(dashPage(c, 'No such payout', <p>No payout {id} exists.</p>), 404)
  const form = await readForm(c)
  const r = await forward(c, `/payouts/${id}/resolve`, { key: field(form, 'idempotency_key'), body: { action: field(form, 'action'), reason: field(form, 'reason') } })
  if (r.ok) return c.redirect(`/payouts?resolved=${id}`, 303)
  return c.html(payoutsOverviewPage(c, await loadPayoutsOverview(c.env.DB), { kind: 'error', text: `Payout ${id}: ${r.text}`, stepUp: r.stepUp }), pageStatus(r))
}
