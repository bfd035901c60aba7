/**
 * What each role may do, written down once. Routes never name roles: they name a permission
 * (access.ts), and the roles that hold it are looked up here, so the OpenAPI document, the
 * enforcing middleware and the role matrix test all read the same table.
 *
 * Least privilege: a role gets a permission only when its job needs it. `admin` and `super_admin`
 * are not wildcards; every permission they hold is listed, so adding a permission to the platform
 * grants it to nobody until someone decides who needs it. Only `super_admin` holds
 * `sso:roles:grant_privileged` (granting or revoking `admin` / `super_admin`).
 * @module
 */
import { ROLES, type Role } from '../../edge/roles'

export const PERMISSIONS = [
  // routing: brands, domains, geo rules, origin pools, analytics
  'routing:read',
  'routing:write',
  // the audit log
  'audit:read',
  // FanzSSO management
  'sso:users:read',
  'sso:users:disable',
  'sso:sessions:read',
  'sso:sessions:revoke',
  'sso:clients:read',
  'sso:clients:manage',
  'sso:roles:read',
  'sso:roles:grant',
  'sso:roles:grant_privileged',
  /** the dev mail outbox (exists only in dev) */
  'sso:outbox:read',
  /** resource servers checking tokens (RFC 7662) */
  'sso:tokens:introspect',
  // brand operations
  /** the review queue: claim and decide items, see classifier scores; read any item and its cases */
  'media:moderate',
  /** read any creator's media items, cases and marks (operators) */
  'media:read',
  /** create hash lists, import StopNCII-style and provider lists, resolve hash-match cases */
  'media:hashlists:manage',
  /** recover the viewer behind a leaked image or video (forensic marks) */
  'media:leaks:trace',
  /** the offline packager (a service identity): fetch originals, write A/B HLS variants and keyframes */
  'media:package',
  /** change a creator's storage quota */
  'media:quotas:manage',
  'reports:handle',
  /** one's own media: upload, describe, link performers, publish, geo-block (creators) */
  'creator:content:write',
  // money
  /** pay a creator (subscription, tip, pay-per-view, message unlock): every account is a fan */
  'payments:checkout',
  /** every payment with its gateway events (transactions view) */
  'payments:read',
  /** every payout, batch, run and refusal */
  'payouts:read',
  /** approve a batch (a second, distinct approver above the configured amount) */
  'payouts:approve',
  /** run the rules, build and cancel batches, submit, record returns, edit fee schedules */
  'payouts:manage',
  /** download bank files (NACHA, pain.001, wire and check registers); every download is audited */
  'payouts:files:download',
  /** place and release a compliance hold on a creator's payouts */
  'payouts:holds:manage',
  /**
   * one's own payout methods, rule, instant payouts, earnings and remittances (creators); operators
   * holding it with `payouts:read` read any creator's through the same routes, but only the owner
   * ever changes them (workers/payouts/access.ts), like `ledger:read_own`
   */
  'payouts:self',
  'payments:refund',
  /** any creator's ledger: balances, history, statements (a creator reads their own without it) */
  'ledger:read',
  /** one's own creator ledger (creators.user_id = token subject); holders of `ledger:read` read any */
  'ledger:read_own',
  /** admin adjustments to a creator's ledger (with a reason) */
  'ledger:adjust',
  'payments:mids:read',
  'payments:mids:manage',
  /** every subscription (a fan sees and cancels their own without it) */
  'payments:subscriptions:read',
  /** cancel any fan's subscription (support, finance) */
  'payments:subscriptions:manage',
  'payments:disputes:read',
  /** submit evidence, accept a dispute */
  'payments:disputes:manage',
  /** gateway switches and contract fees; the routing configuration */
  'payments:gateways:read',
  'payments:gateways:manage',
  'payments:routing:manage',
  /** revenue and success-rate analytics */
  'payments:analytics:read',
  /** import bank statements, match bank-transfer pay-ins by hand */
  'payments:bank:reconcile',
  // compliance and records custody
  'compliance:cases:manage',
  'dmca:manage',
  /** read vault documents and KYC details (with a stated purpose and a recent strong sign-in) */
  'vault:read',
  /** upload documents into the vault for others (compliance staff) */
  'vault:write',
  /** decide KYC verifications in the manual review queue */
  'vault:kyc:review',
  /** rotate the vault's key-encryption keys, see key status */
  'vault:keys:manage',
  /** emergency access outside one's role, loud in the audit log */
  'vault:break_glass',
  /** start and follow one's own identity verification (creators, performers) */
  'vault:kyc:self',
  /** start and follow one's own age verification: every account */
  'age:verify:self',
  'records:2257:read',
  /** create and amend performer records, link them to media */
  'records:2257:write',
  /** the inspection export */
  'records:2257:export',
] as const

export type Permission = (typeof PERMISSIONS)[number]

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value)
}

const ADMIN: readonly Permission[] = [
  'routing:read',
  'routing:write',
  'audit:read',
  'sso:users:read',
  'sso:users:disable',
  'sso:sessions:read',
  'sso:sessions:revoke',
  'sso:clients:read',
  'sso:clients:manage',
  'sso:roles:read',
  'sso:roles:grant',
  'sso:outbox:read',
  'media:moderate',
  'media:read',
  'media:hashlists:manage',
  'media:leaks:trace',
  'media:quotas:manage',
  'reports:handle',
  'payouts:read',
  'payouts:self',
  'payments:read',
  'ledger:read',
  'ledger:read_own',
  'payments:mids:read',
  'payments:subscriptions:read',
  'payments:disputes:read',
  'payments:gateways:read',
  'payments:analytics:read',
  'compliance:cases:manage',
]

/** role -> permissions. Every role is listed, `fan` included, so a missing role is a type error. */
export const ROLE_PERMISSIONS: { readonly [R in Role]: readonly Permission[] } = {
  fan: ['payments:checkout', 'age:verify:self'],
  creator: ['creator:content:write', 'ledger:read_own', 'vault:kyc:self', 'payouts:self'],
  moderator: ['media:moderate', 'media:read', 'reports:handle'],
  support: ['sso:users:read', 'sso:sessions:read', 'sso:sessions:revoke', 'sso:roles:read', 'reports:handle', 'payments:subscriptions:read', 'payments:subscriptions:manage'],
  finance: [
    'payments:read',
    'payouts:read',
    'payouts:approve',
    'payouts:manage',
    'payouts:files:download',
    'payouts:holds:manage',
    'payouts:self',
    'payments:refund',
    'ledger:read',
    'ledger:read_own',
    'ledger:adjust',
    'payments:mids:read',
    'payments:mids:manage',
    'payments:subscriptions:read',
    'payments:subscriptions:manage',
    'payments:disputes:read',
    'payments:disputes:manage',
    'payments:gateways:read',
    'payments:gateways:manage',
    'payments:routing:manage',
    'payments:analytics:read',
    'payments:bank:reconcile',
  ],
  compliance_officer: ['audit:read', 'media:read', 'media:hashlists:manage', 'media:leaks:trace', 'payouts:read', 'payouts:self', 'payouts:holds:manage', 'compliance:cases:manage', 'dmca:manage', 'vault:read', 'vault:write', 'vault:kyc:review', 'vault:break_glass', 'records:2257:read', 'records:2257:write'],
  custodian: ['vault:read', 'records:2257:read', 'records:2257:write', 'records:2257:export'],
  // read-only on the SSO side: operators watch the platform, they do not change accounts
  operator: ['routing:read', 'routing:write', 'audit:read', 'sso:users:read', 'sso:sessions:read', 'sso:clients:read', 'sso:roles:read', 'sso:outbox:read', 'payments:analytics:read'],
  admin: ADMIN,
  // key custody is the super_admin's alone: whoever rotates KEKs cannot also be an everyday admin
  super_admin: [...ADMIN, 'sso:roles:grant_privileged', 'vault:keys:manage'],
  service: ['sso:tokens:introspect', 'media:package'],
}

/** Roles only a super_admin may grant or revoke. */
export const PRIVILEGED_ROLES: readonly Role[] = ['admin', 'super_admin']

/**
 * Roles that make sense only platform-wide: a super_admin or a service identity scoped to one brand
 * would be a contradiction. `fan` is never granted: every account is one.
 */
export const GLOBAL_ONLY_ROLES: readonly Role[] = ['super_admin', 'service']
export const UNGRANTABLE_ROLES: readonly Role[] = ['fan']

/** The roles holding `permission`, in ROLES order. */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission))
}

/** Union of the permissions of `roles`. */
export function permissionsOf(roles: readonly Role[]): Permission[] {
  const held = new Set<Permission>()
  for (const role of roles) for (const p of ROLE_PERMISSIONS[role]) held.add(p)
  return PERMISSIONS.filter((p) => held.has(p))
}

/** The permission needed to grant or revoke `role`. */
export function grantPermissionFor(role: Role): Permission {
  return PRIVILEGED_ROLES.includes(role) ? 'sso:roles:grant_privileged' : 'sso:roles:grant'
}
