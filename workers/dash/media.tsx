/**
 * FanzDash media review (`/media/review`), for holders of `media:moderate` (moderators, admins):
 * the review queue, most urgent first, with priority, SLA state and due time, the classifier's
 * verdict and scores, who holds a claim, and the number of open media cases.
 *
 * Actions (claim, approve, reject, escalate) are same-origin POST forms that call the review API
 * (`/api/media/review/{id}/claim|decision`, workers/media/moderation/api.ts) in-process with the
 * moderator's own token, so permission, claim exclusivity (409) and the audit entry are exactly
 * the API's; a refusal comes back as the API's problem and is shown above the queue.
 * @module
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../edge/context'
import { readForm } from '../edge/body'
import { isSameOrigin } from '../edge/same-origin'
import { platformFetch } from '../lib/platform-fetch'
import { listQueue, REVIEW_REASONS, type QueueEntry } from '../media/moderation/review'
import { holds } from '../sso/roles/middleware'
import { dashPage, signInPage } from './pages'

/** How many queued items the page shows (the API pages further). */
export const REVIEW_PAGE_SIZE = 100

const when = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))

export interface ReviewOverview {
  items: QueueEntry[]
  openCases: { total: number; critical: number }
  nowMs: number
}

export async function loadReviewOverview(d1: D1Database, nowMs = Date.now()): Promise<ReviewOverview> {
  const [page, cases] = await Promise.all([
    listQueue(d1, { limit: REVIEW_PAGE_SIZE, nowMs }),
    d1.prepare("SELECT COUNT(*) AS total, COALESCE(SUM(severity = 'critical'), 0) AS critical FROM media_cases WHERE status = 'open'").first<{ total: number; critical: number }>(),
  ])
  return { items: page.items, openCases: { total: cases?.total ?? 0, critical: cases?.critical ?? 0 }, nowMs }
}

/** 401 with the sign-in page, 403 without `media:moderate`. */
export const mediaModerators = createMiddleware<AppEnv>(async (c, next) => {
  c.header('cache-control', 'private, no-store')
  c.header('vary', 'Cookie')
  const auth = c.var.auth
  if (!auth) return c.html(signInPage(c, { rejected: c.var.authError }), 401, { 'www-authenticate': 'Bearer realm="fanz"' })
  if (!holds(auth, 'media:moderate')) {
    return c.html(
      dashPage(
        c,
        'Not allowed',
        <div class="panel">
          <p class="eyebrow">Error 403</p>
          <h1>Media review needs the media:moderate permission</h1>
          <p>
            You are signed in as <code>{auth.subject}</code> ({auth.roles.join(', ') || 'no roles'}). The review queue is for moderators and admins.
          </p>
        </div>,
      ),
      403,
    )
  }
  await next()
})

const SLA_LABEL = { on_time: 'On time', at_risk: 'At risk', breached: 'Breached' } as const
const PRIORITY_LABEL = ['0 (urgent)', '1 (flagged)', '2 (routine)']
const REASON_LABEL: Record<(typeof REVIEW_REASONS)[number], string> = {
  minor_suspected: 'Minor suspected',
  non_consensual: 'Non-consensual',
  violence: 'Violence',
  illegal_content: 'Illegal content',
  hate_or_harassment: 'Hate or harassment',
  copyright: 'Copyright',
  terms_violation: 'Terms violation',
  performer_records_missing: 'Performer records missing',
  poor_quality: 'Poor quality',
  other: 'Other',
}

export interface Notice {
  kind: 'done' | 'error'
  text: string
}

const Scores = ({ e }: { e: QueueEntry }) =>
  e.classifier ? (
    <>
      <strong data-verdict={e.classifier.verdict}>{e.classifier.verdict}</strong>
      {Object.keys(e.classifier.scores).length ? (
        <ul class="plain" data-scores={e.itemId}>
          {Object.entries(e.classifier.scores).map(([k, v]) => (
            <li>
              {k.replace('_', ' ')}: {v.toFixed(2)}
            </li>
          ))}
        </ul>
      ) : (
        <span> (no scores{e.classifier.note ? `: ${e.classifier.note}` : ''})</span>
      )}
      <span class="hint"> {e.classifier.model}</span>
    </>
  ) : (
    'not classified'
  )

function ReasonSelect({ id, name }: { id: string; name: string }) {
  return (
    <select id={id} name={name} required>
      {REVIEW_REASONS.map((r) => (
        <option value={r}>{REASON_LABEL[r]}</option>
      ))}
    </select>
  )
}

function Actions({ e, me }: { e: QueueEntry; me: string }) {
  const mine = e.status === 'claimed' && e.claimedBy === me
  const theirs = e.status === 'claimed' && !mine
  if (theirs) return <span>Claimed by {e.claimedBy} until {when(e.claimedUntilMs)}</span>
  return (
    <div class="stack">
      <form method="post" action={`/media/review/${e.itemId}/claim`} class="inline-form">
        <button type="submit" class="secondary">
          {mine ? 'Renew claim on' : 'Claim'} {e.itemId}
        </button>
      </form>
      <form method="post" action={`/media/review/${e.itemId}/approve`} class="inline-form">
        <button type="submit">Approve {e.itemId}</button>
      </form>
      <form method="post" action={`/media/review/${e.itemId}/reject`} class="stack">
        <div>
          <label for={`reject-reason-${e.itemId}`}>Reason for rejecting</label>
          <ReasonSelect id={`reject-reason-${e.itemId}`} name="reason" />
        </div>
        <button type="submit" class="secondary">
          Reject {e.itemId}
        </button>
      </form>
      <form method="post" action={`/media/review/${e.itemId}/escalate`} class="stack">
        <div>
          <label for={`escalate-reason-${e.itemId}`}>Reason for escalating</label>
          <ReasonSelect id={`escalate-reason-${e.itemId}`} name="reason" />
        </div>
        <div>
          <label for={`escalate-note-${e.itemId}`}>Note for compliance</label>
          <input id={`escalate-note-${e.itemId}`} name="note" type="text" maxlength={2000} autocomplete="off" />
        </div>
        <button type="submit" class="secondary">
          Escalate {e.itemId}
        </button>
      </form>
    </div>
  )
}

export function reviewPage(c: Context<AppEnv>, data: ReviewOverview, notice?: Notice) {
  const me = c.var.auth!.subject
  return dashPage(
    c,
    'Media review',
    <>
      <h1>Media review</h1>
      {notice ? (
        <div class="alert" role={notice.kind === 'error' ? 'alert' : 'status'}>
          <p>{notice.text}</p>
        </div>
      ) : null}
      <p data-open-cases={String(data.openCases.total)}>
        Open media cases: {data.openCases.total}
        {data.openCases.critical ? `, ${data.openCases.critical} critical` : ''} (compliance resolves them; an item with an open case cannot be approved).
      </p>
      <section aria-labelledby="queue-title">
        <h2 id="queue-title">Review queue</h2>
        <p>
          Most urgent first: priority, then due time. A claim keeps other moderators off an item for 15 minutes. SLA: priority 0 within 1 hour, 1 within 4 hours, 2
          within 24 hours; at risk with less than a quarter of the time left.
        </p>
        {data.items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Media items waiting for a moderator’s decision</caption>
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col">Creator</th>
                  <th scope="col">Priority</th>
                  <th scope="col">SLA</th>
                  <th scope="col">Classifier</th>
                  <th scope="col">Open cases</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((e) => (
                  <tr data-item={e.itemId} data-priority={String(e.priority)} data-sla={e.sla}>
                    <th scope="row">
                      <code>{e.itemId}</code>
                      <br />
                      {e.title || '(untitled)'} ({e.kind})
                    </th>
                    <td>{e.creatorName ?? e.creatorId}</td>
                    <td>{PRIORITY_LABEL[e.priority] ?? String(e.priority)}</td>
                    <td>
                      <span class={`status ${e.sla === 'on_time' ? 'ok' : 'broken'}`}>{SLA_LABEL[e.sla]}</span>, due {when(e.dueAtMs)}
                    </td>
                    <td>
                      <Scores e={e} />
                    </td>
                    <td>{e.openCases}</td>
                    <td>
                      <Actions e={e} me={me} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>Nothing waits for review.</p>
        )}
      </section>
    </>,
  )
}

export async function reviewOverview(c: Context<AppEnv>): Promise<Response> {
  const done = c.req.query('done')
  const item = c.req.query('item')
  const notice = done && ACTIONS.includes(done as Action) && item && ITEM_ID.test(item) ? { kind: 'done' as const, text: `${item}: ${DONE_TEXT[done as Action]}.` } : undefined
  return c.html(reviewPage(c, await loadReviewOverview(c.env.DB), notice))
}

const ITEM_ID = /^med_[0-9A-HJKMNP-TV-Z]{26}$/
const ACTIONS = ['claim', 'approve', 'reject', 'escalate'] as const
type Action = (typeof ACTIONS)[number]
const DONE_TEXT: Record<Action, string> = { claim: 'claimed for 15 minutes', approve: 'approved', reject: 'rejected', escalate: 'escalated to compliance' }

function moderatorToken(c: Context<AppEnv>): string | null {
  const header = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(c.req.header('authorization')?.trim() ?? '')
  return header?.[1] ?? getCookie(c, c.var.config.sessionCookie) ?? null
}

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '')

/** POST /media/review/{itemId}/{claim|approve|reject|escalate}: same-origin only, then the review API with the moderator's token. */
export async function reviewAction(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'no-store')
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const id = c.req.param('itemId') ?? ''
  const action = c.req.param('action') as Action
  if (!ITEM_ID.test(id) || !ACTIONS.includes(action)) return c.html(dashPage(c, 'No such item', <p>No review action {action} for {id}.</p>), 404)
  const form = await readForm(c)
  const reason = field(form, 'reason')
  const note = field(form, 'note')
  const body = action === 'claim' ? undefined : { decision: action, ...(action === 'approve' ? {} : { reasons: reason ? [reason] : [] }), ...(note ? { note } : {}) }
  const origin = new URL(c.req.url).origin
  const res = await platformFetch(c.env, c.executionCtx as ExecutionContext)(`${origin}/api/media/review/${id}/${action === 'claim' ? 'claim' : 'decision'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${moderatorToken(c)}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  if (res.ok) {
    await res.body?.cancel()
    return c.redirect(`/media/review?done=${action}&item=${id}`, 303)
  }
  const problem = (await res.json().catch(() => ({}))) as { detail?: string; errors?: Array<{ path: string; message: string }> }
  const text = [`${id}: ${problem.detail ?? `the API answered ${res.status}`}`, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)].join(' · ')
  const status = (res.status === 401 ? 403 : res.status) as 400 | 403 | 404 | 409 | 422
  return c.html(reviewPage(c, await loadReviewOverview(c.env.DB), { kind: 'error', text }), status)
}
