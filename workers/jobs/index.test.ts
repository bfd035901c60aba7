import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import entry from '../index'
import { auditLog } from '../compliance/audit'
import { CRON_HOURLY } from './index'

const worker: Pick<Required<ExportedHandler<Env>>, 'queue' | 'scheduled'> = entry

describe('cron triggers', () => {
  it('hourly: keeps an active and a next signing key per algorithm, and audits the change', async () => {
    await env.DB.exec('DELETE FROM signing_keys')
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ cron: CRON_HOURLY, scheduledTime: Date.now() }), env, ctx)
    await waitOnExecutionContext(ctx)
    const states = (await env.DB.prepare('SELECT alg, state FROM signing_keys').all<{ alg: string; state: string }>()).results.map((r) => `${r.alg} ${r.state}`).sort()
    expect(states).toEqual(['EdDSA active', 'EdDSA next', 'RS256 active', 'RS256 next'])
    const entries = await auditLog(env).list({ action: 'sso.signing_key.rotate', limit: 10 })
    expect(entries).toHaveLength(1)
    expect(JSON.parse(entries[0]!.details).created).toHaveLength(4)

    // a second run changes nothing and audits nothing
    await worker.scheduled(createScheduledController({ cron: CRON_HOURLY, scheduledTime: Date.now() }), env, createExecutionContext())
    expect(await auditLog(env).list({ action: 'sso.signing_key.rotate', limit: 10 })).toHaveLength(1)
  })

  it('ignores a cron it does not know', async () => {
    await expect(worker.scheduled(createScheduledController({ cron: '0 0 31 2 *', scheduledTime: Date.now() }), env, createExecutionContext())).resolves.toBeUndefined()
  })
})
