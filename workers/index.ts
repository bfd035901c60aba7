/**
 * Worker entry: fetch -> the edge app, queue -> consumer by queue name, scheduled -> jobs by cron.
 * @module
 */
import { Hono } from 'hono'
import { app } from './app'
import { runScheduled } from './jobs'
import { handleQueueBatch } from './queues'
// registers the `payout.execute` queue handler and its dead-letter hook, and `payout.run.holds` (a payout run's ledger holds in chunks)
import './payouts/execution/consumer'
// registers MediaHub's `media.ingest` and `media.hashlist.import` handlers
import './media/queue-handlers'

export { AuditLog } from '../durable-objects/audit-log'
export { UserSessions } from '../durable-objects/user-sessions'
export { Throttle } from '../durable-objects/throttle'
export { CreatorLedger } from '../durable-objects/creator-ledger'
export { MerchantHealth } from '../durable-objects/merchant-health'
export { IdempotencyKeys } from '../durable-objects/idempotency-keys'
export { RoutingStats } from '../durable-objects/routing-stats'
export { HashIndex } from '../durable-objects/hash-index'
export { MediaUpload } from '../durable-objects/media-upload'

/**
 * Benchmark baseline (bench/): a bare Hono route in the same Worker on the same workerd, so the
 * full edge path can be measured against it in one run. Never mounted in production.
 */
const bare = new Hono().get('/__bench/bare', (c) => c.text('ok'))

export default {
  fetch(request, env, ctx) {
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/bare')) return bare.fetch(request, env, ctx)
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/ledger')) return import('./ledger/bench-route').then((m) => m.benchLedger.fetch(request, env, ctx))
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/payouts')) return import('./payouts/bench-route').then((m) => m.benchPayouts.fetch(request, env, ctx))
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/media-pdq')) return import('./media/pdq/bench-route').then((m) => m.benchPdq.fetch(request, env, ctx))
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/media-hashlist')) return import('./media/hashlists/bench-route').then((m) => m.benchHashList.fetch(request, env, ctx))
    if (env.ENVIRONMENT !== 'production' && request.url.includes('/__bench/vault')) return import('./vault/bench-route').then((m) => m.benchVault.fetch(request, env, ctx))
    return app.fetch(request, env, ctx)
  },
  queue: handleQueueBatch,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env>
