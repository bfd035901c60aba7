/**
 * `/api/payouts/*`: creator payouts. Creators manage their own methods, rule and instant payouts
 * and read their earnings, payouts and remittances (`payouts:self`); finance runs the rules,
 * approves and submits batches, downloads bank files and records returns; compliance places holds.
 * Every route declares its permission (methods and instant payouts with a step-up), every
 * money-moving POST takes an Idempotency-Key, every change is audited.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { registerBatches } from './batches/api'
import { registerPayouts } from './execution/api'
import { registerFees } from './fees/api'
import { registerFiles } from './files/api'
import { registerHolds } from './holds/api'
import { registerMethods } from './methods/api'
import { registerReturns } from './returns/api'
import { registerRules } from './rules/api'
import { registerRuns } from './runs/api'
import { registerStatements } from './statements/api'

export const payoutsApi = createSurfaceApp()

registerMethods(payoutsApi)
registerFees(payoutsApi)
registerHolds(payoutsApi)
registerRules(payoutsApi)
registerRuns(payoutsApi)
registerBatches(payoutsApi)
registerPayouts(payoutsApi)
registerFiles(payoutsApi)
registerReturns(payoutsApi)
registerStatements(payoutsApi)
