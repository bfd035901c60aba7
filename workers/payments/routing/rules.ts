/**
 * Rule evaluation: top to bottom, the first rule whose conditions all hold decides (Hyperswitch
 * "advanced" routing); no match means the default order.
 * @module
 */
import type { Condition, PaymentContext, Rule } from './types'

function fieldValue(ctx: PaymentContext, field: Condition['field']): string | number | undefined {
  return ctx[field]
}

/**
 * Whether one condition holds for the payment. A dimension the payment lacks never matches.
 * @example
 * conditionHolds({ field: 'bin', op: 'prefix', value: ['4111'] }, ctx) // true for BIN 411111
 */
export function conditionHolds(condition: Condition, ctx: PaymentContext): boolean {
  const actual = fieldValue(ctx, condition.field)
  if (actual === undefined) return false
  switch (condition.op) {
    case 'eq':
      return actual === condition.value
    case 'ne':
      return actual !== condition.value
    case 'in':
      return (condition.value as readonly (string | number)[]).includes(actual)
    case 'not_in':
      return !(condition.value as readonly (string | number)[]).includes(actual)
    case 'gt':
      return typeof actual === 'number' && actual > condition.value
    case 'gte':
      return typeof actual === 'number' && actual >= condition.value
    case 'lt':
      return typeof actual === 'number' && actual < condition.value
    case 'lte':
      return typeof actual === 'number' && actual <= condition.value
    case 'prefix':
      return typeof actual === 'string' && condition.value.some((p) => actual.startsWith(p))
  }
}

/** `currency in [EUR,GBP]`, `amountMinor gte 5000`: how a condition reads in a reason line. */
export function describeCondition(condition: Condition): string {
  const value = Array.isArray(condition.value) ? `[${condition.value.join(',')}]` : String(condition.value)
  return `${condition.field} ${condition.op} ${value}`
}

/**
 * The first rule whose conditions all hold, or undefined.
 * @param rules in evaluation order
 */
export function firstMatchingRule(rules: readonly Rule[], ctx: PaymentContext): Rule | undefined {
  return rules.find((rule) => rule.conditions.every((c) => conditionHolds(c, ctx)))
}
