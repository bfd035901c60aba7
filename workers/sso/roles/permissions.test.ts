import { describe, expect, it } from 'vitest'
import { ROLES } from '../../edge/roles'
import { call } from '../../../test/helpers'
import { grantPermissionFor, PERMISSIONS, permissionsOf, ROLE_PERMISSIONS, rolesWith } from './permissions'
import { aalOf, recentAuthShortfall } from './middleware'
import type { AuthContext } from '../../edge/context'

const auth = (over: Partial<AuthContext>): AuthContext => ({ subject: 'usr_x', roles: ['fan'], brandRoles: {}, ageVerified: false, amr: ['pwd'], authTimeS: 1_000, acr: undefined, claims: {}, source: 'bearer', ...over })

describe('the permission table', () => {
  it('is least privilege: only super_admin grants admin and super_admin, and fan holds only checkout', () => {
    expect(rolesWith('sso:roles:grant_privileged')).toEqual(['super_admin'])
    expect(rolesWith('sso:roles:grant')).toEqual(['admin', 'super_admin'])
    expect(grantPermissionFor('admin')).toBe('sso:roles:grant_privileged')
    expect(grantPermissionFor('super_admin')).toBe('sso:roles:grant_privileged')
    expect(grantPermissionFor('moderator')).toBe('sso:roles:grant')
    // every account is a fan: it may pay creators, and nothing else
    expect(ROLE_PERMISSIONS.fan).toEqual(['payments:checkout', 'age:verify:self'])
    expect(rolesWith('sso:users:disable')).toEqual(['admin', 'super_admin'])
    expect(rolesWith('sso:sessions:revoke')).toEqual(['support', 'admin', 'super_admin'])
    expect(rolesWith('sso:users:read')).toEqual(['support', 'operator', 'admin', 'super_admin'])
  })

  it('does not make admin or super_admin wildcards: some permissions are held by neither', () => {
    const adminHeld = new Set(permissionsOf(['admin', 'super_admin']))
    expect(PERMISSIONS.filter((p) => !adminHeld.has(p)).sort()).toEqual([
      'age:verify:self',
      'creator:content:write',
      'dmca:manage',
      'ledger:adjust',
      'media:package',
      'payments:bank:reconcile',
      'payments:checkout',
      'payments:disputes:manage',
      'payments:gateways:manage',
      'payments:mids:manage',
      'payments:refund',
      'payments:routing:manage',
      'payments:subscriptions:manage',
      'payouts:approve',
      'payouts:files:download',
      'payouts:holds:manage',
      'payouts:manage',
      'records:2257:read',
      'records:2257:write',
      'records:2257:export',
      'vault:break_glass',
      'vault:kyc:review',
      'vault:kyc:self',
      'sso:tokens:introspect',
      'vault:read',
      'vault:write',
    ].sort())
  })

  it('gives every role an entry and every permission at least one holder', () => {
    expect(Object.keys(ROLE_PERMISSIONS).sort()).toEqual([...ROLES].sort())
    for (const p of PERMISSIONS) expect(rolesWith(p).length, p).toBeGreaterThan(0)
  })
})

describe('step-up arithmetic', () => {
  it('reads both acr spellings and needs mfa or AAL2 when strong', () => {
    expect(aalOf('urn:fanz:acr:aal2')).toBe(2)
    expect(aalOf('urn:fanz:aal3')).toBe(3)
    expect(aalOf('urn:other:aal2')).toBe(0)
    const policy = { maxAgeS: 600, strong: true }
    expect(recentAuthShortfall(auth({ amr: ['pwd', 'mfa'], authTimeS: 1_000 }), policy, 1_500)).toBeNull()
    expect(recentAuthShortfall(auth({ amr: ['pwd'], acr: 'urn:fanz:acr:aal2', authTimeS: 1_000 }), policy, 1_500)).toBeNull()
    expect(recentAuthShortfall(auth({ amr: ['pwd'], authTimeS: 1_000 }), policy, 1_500)).toBe('a second factor is required')
    expect(recentAuthShortfall(auth({ amr: ['pwd', 'mfa'], authTimeS: 1_000 }), policy, 1_601)).toBe('the last sign-in is older than 600 s')
    expect(recentAuthShortfall(auth({ authTimeS: undefined }), policy, 1_500)).toBe('the token carries no auth_time')
    expect(recentAuthShortfall(auth({ amr: ['pwd'], authTimeS: 1_000 }), { maxAgeS: 600, strong: false }, 1_500)).toBeNull()
  })
})

describe('the OpenAPI document', () => {
  // test/roles-matrix.test.ts checks that every operation is declared and enforced as declared
  it('publishes x-fanz-access derived from the permission table', async () => {
    const doc = (await (await call('api.localhost', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> }
    expect(doc.paths['/api/sso/users/{id}/roles']!.post!['x-fanz-access']).toEqual({
      public: false,
      permission: 'sso:roles:grant',
      roles: ['admin', 'super_admin'],
      brand_scope: 'named',
      step_up: { max_age_s: 600, strong: true },
    })
    expect(doc.paths['/api/routing/brands']!.get!['x-fanz-access']).toMatchObject({ permission: 'routing:read', roles: ['operator', 'admin', 'super_admin'] })
    expect(doc.paths['/api/sso/accounts']!.post!['x-fanz-access']).toEqual({ public: true, roles: [] })
  })
})
