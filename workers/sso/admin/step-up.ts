/**
 * The step-up policy of management changes that hand out power (role grants, client secrets): a
 * sign-in at most 10 minutes old with two factors (RFC 9470; NIST 800-63B AAL2). A caller that
 * falls short gets 401 `insufficient_user_authentication` with `max_age` and `acr_values`.
 * @module
 */
import type { RecentAuthPolicy } from '../roles/middleware'

export const STEP_UP: RecentAuthPolicy = { maxAgeS: 600, strong: true }
