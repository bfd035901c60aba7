/**
 * An authorization request parked in D1 (`auth_requests`) while the visitor signs in or consents.
 * @module
 */
import { z } from 'zod'

/** What survives the trip through the sign-in pages; validated before it is stored. */
export const StoredRequest = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  scopes: z.array(z.string()),
  state: z.string().optional(),
  nonce: z.string().optional(),
  codeChallenge: z.string(),
  /** the session must have authenticated at or after this (epoch s): prompt=login and max_age */
  minAuthTimeS: z.number().int().optional(),
})
export type StoredRequest = z.infer<typeof StoredRequest>
