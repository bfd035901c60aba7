/**
 * The sandbox age-verification provider's hosted pages (outside production, on the bare platform
 * host), so the whole flow runs locally and in browser tests as it would against a real provider:
 * the fan arrives with a signed start URL (providers.ts `sandboxStartUrl`), gives a test input for
 * the method, and the "provider" posts a signed result to our webhook before sending the fan back
 * to the SSO page. Test inputs decide the outcome:
 * - ID_DOC: the date of birth on the test ID (18 or older passes);
 * - FAE: the age the "camera" estimates (at least the challenge age passes, e.g. 25 for 18+);
 * - CC: 4242 4242 4242 4242 (adult credit card) passes, 4000 0566 5566 5556 (debit: proves no age)
 *   fails, 4000 0000 0000 0119 is a technical error;
 * - DIGITAL_ID: whether the wallet's "age over 18" attribute is shared as true.
 * Like a real provider that must not keep identifying data, it stores nothing: the input is used
 * for the decision in this request and dropped; only {method, outcome, threshold} leaves it.
 * @module
 */
import { readForm } from '../../edge/body'
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../../edge/context'
import { isSameOrigin } from '../../edge/same-origin'
import { randomToken } from '../../lib/encoding'
import { platformFetch } from '../../lib/platform-fetch'
import { platformPage } from '../../site/platform-page'
import { METHOD_TEXT } from '../../site/av-text'
import { isSupportedMethod, type SupportedMethod } from './methods'
import { sandboxAgeSecret, signAgeCallback, SIGNATURE_HEADER, verifySandboxStart, type SandboxAgeResult } from './providers'
import { browserReachable } from '../../site/links'

export const sandboxAge = new Hono<AppEnv>()

sandboxAge.use('/sandbox-age/*', async (c, next) => {
  if (c.var.config.isProduction) return c.notFound()
  c.header('cache-control', 'no-store')
  await next()
})

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 403 | 502 = 200) {
  return c.html(platformPage(c, 'Sandbox age verification', title, body as never), status)
}

/** Whole years between a date of birth (YYYY-MM-DD) and today (UTC); null when not a real past date. */
export function ageOn(dateOfBirth: string, nowMs: number): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth)
  if (!match) return null
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const born = new Date(Date.UTC(y, m - 1, d))
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || born.getTime() > nowMs) return null
  const now = new Date(nowMs)
  let age = now.getUTCFullYear() - y
  if (now.getUTCMonth() < m - 1 || (now.getUTCMonth() === m - 1 && now.getUTCDate() < d)) age--
  return age
}

const CARDS: Record<string, SandboxAgeResult['outcome']> = { '4242424242424242': 'pass', '4000056655665556': 'fail', '4000000000000119': 'error' }

/** The outcome for a method's test input, or a message naming what is wrong with the input. */
export function decide(method: SupportedMethod, threshold: number, form: URLSearchParams, nowMs: number): { outcome: SandboxAgeResult['outcome'] } | { error: string; field: string } {
  switch (method) {
    case 'ID_DOC': {
      const age = ageOn(form.get('dob') ?? '', nowMs)
      if (age === null) return { error: 'Enter the date of birth on the test ID as a past date.', field: 'dob' }
      return { outcome: age >= threshold && form.get('selfie') === 'match' ? 'pass' : 'fail' }
    }
    case 'FAE': {
      const estimate = Number(form.get('estimate'))
      if (!Number.isInteger(estimate) || estimate < 1 || estimate > 120) return { error: 'Enter the estimated age as a whole number.', field: 'estimate' }
      return { outcome: estimate >= threshold ? 'pass' : 'fail' }
    }
    case 'CC': {
      const outcome = CARDS[(form.get('card') ?? '').replace(/\s+/g, '')]
      return outcome ? { outcome } : { error: 'Use one of the test card numbers.', field: 'card' }
    }
    case 'DIGITAL_ID': {
      const shared = form.get('over18')
      if (shared !== 'true' && shared !== 'false') return { error: 'Choose what the wallet shares.', field: 'over18' }
      return { outcome: shared === 'true' ? 'pass' : 'fail' }
    }
  }
}

function MethodInputs({ method, threshold }: { method: SupportedMethod; threshold: number }) {
  switch (method) {
    case 'ID_DOC':
      return (
        <>
          <label for="dob">Date of birth on the test ID</label>
          <input type="date" id="dob" name="dob" required aria-describedby="dob-hint" />
          <p class="hint" id="dob-hint">
            {threshold} or older passes. The sandbox uses it for this decision only and keeps nothing.
          </p>
          <label for="selfie">Selfie</label>
          <select id="selfie" name="selfie">
            <option value="match">matches the ID photo</option>
            <option value="mismatch">does not match</option>
          </select>
        </>
      )
    case 'FAE':
      return (
        <>
          <label for="estimate">Estimated age (what the camera would estimate)</label>
          <input type="number" id="estimate" name="estimate" min="1" max="120" required aria-describedby="estimate-hint" />
          <p class="hint" id="estimate-hint">
            The challenge age is {threshold}: an estimate of {threshold} or more passes, anything lower fails.
          </p>
        </>
      )
    case 'CC':
      return (
        <>
          <label for="card">Credit card number</label>
          <input type="text" id="card" name="card" inputmode="numeric" autocomplete="off" required aria-describedby="card-hint" />
          <p class="hint" id="card-hint">
            A zero-amount check: 4242 4242 4242 4242 (adult credit card) passes, 4000 0566 5566 5556 (debit card, proves no age) fails, 4000 0000 0000 0119 is a technical error.
          </p>
        </>
      )
    case 'DIGITAL_ID':
      return (
        <>
          <label for="over18">The wallet shares “age over 18”</label>
          <select id="over18" name="over18">
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        </>
      )
  }
}

sandboxAge.get('/sandbox-age/start', async (c) => {
  const query = new URL(c.req.url).search.slice(1)
  const params = await verifySandboxStart(c.var.config, query)
  const method = params?.get('method') ?? ''
  if (!params || !isSupportedMethod(method)) return page(c, 'Invalid session', <p>This age-verification link is not signed by FANZ. Start again from FanzSSO.</p>, 400)
  const threshold = Number(params.get('threshold'))
  return page(
    c,
    `Verify your age: ${METHOD_TEXT[method].name}`,
    <section class="narrow" aria-labelledby="title">
      <p class="eyebrow">Sandbox age-verification provider · test data only</p>
      <h1 id="title">{METHOD_TEXT[method].name}</h1>
      <p>{METHOD_TEXT[method].detail}.</p>
      <form method="post" action="/sandbox-age/complete" class="stack">
        <input type="hidden" name="q" value={query} />
        <MethodInputs method={method} threshold={threshold} />
        <button type="submit">Verify</button>
      </form>
    </section>,
  )
})

async function postResult(c: Context<AppEnv>, result: SandboxAgeResult): Promise<Response> {
  const rawBody = JSON.stringify(result)
  const origin = c.var.config.issuer.replace('//sso.', '//api.')
  return platformFetch(c.env, c.executionCtx as ExecutionContext)(`${origin}/api/vault/age/webhooks/sandbox`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signAgeCallback(await sandboxAgeSecret(c.var.config), rawBody, Math.floor(Date.now() / 1000)) },
    body: rawBody,
  })
}

sandboxAge.post('/sandbox-age/complete', async (c) => {
  if (!isSameOrigin(c)) return c.text('cross-site request refused', 403)
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(await readForm(c))) if (typeof value === 'string') form.set(key, value)
  const params = await verifySandboxStart(c.var.config, form.get('q') ?? '')
  const method = params?.get('method') ?? ''
  if (!params || !isSupportedMethod(method)) return page(c, 'Invalid session', <p>This age-verification session is not signed by FANZ.</p>, 400)
  const threshold = Number(params.get('threshold'))
  const decision = decide(method, threshold, form, Date.now())
  if ('error' in decision) {
    return page(
      c,
      'Check the test input',
      <p role="alert">
        {decision.error} <a href={`/sandbox-age/start?${form.get('q')}`}>Try again</a>.
      </p>,
      400,
    )
  }
  const result: SandboxAgeResult = {
    event_id: `sbx_avev_${randomToken(12)}`,
    session_id: params.get('session')!,
    reference: params.get('ref')!,
    method,
    outcome: decision.outcome,
    threshold,
    occurred_at: new Date().toISOString(),
  }
  const delivered = await postResult(c, result)
  if (!delivered.ok) return page(c, 'Result not delivered', <p>FANZ did not accept the result ({delivered.status}).</p>, 502)
  const back = browserReachable(c, params.get('return')!).toString()
  const message = decision.outcome === 'pass' ? 'Age verified.' : decision.outcome === 'fail' ? 'Age not verified.' : 'The check could not be completed.'
  // back to FanzSSO without a redirect after the form post (CSP form-action governs those)
  c.header('refresh', `0;url=${back}`)
  return page(
    c,
    message,
    <p role="status">
      {message} <a href={back}>Return to FanzSSO</a>.
    </p>,
  )
})
