/**
 * `/api/sso/*`: the FanzSSO account API (email + password): sign-up, email verification, forgotten
 * and reset password, and the dev outbox. One surface app, one file per concern:
 * api-signup.ts, api-verify.ts, api-password.ts, api-dev-outbox.ts (schemas in api-schemas.ts,
 * flood control in api-throttle.ts). Sign-in and sessions come with the OIDC flows.
 * @module
 */
import { createSurfaceApp } from '../../edge/surface'
import { registerDevOutbox } from './api-dev-outbox'
import { registerPassword } from './api-password'
import { registerSignUp } from './api-signup'
import { registerVerifyEmail } from './api-verify'
import { registerAdminApi } from '../admin/api'
import { registerOtpApi } from '../otp/api'

export const ssoApi = createSurfaceApp()

registerDevOutbox(ssoApi)
registerSignUp(ssoApi)
registerVerifyEmail(ssoApi)
registerPassword(ssoApi)
registerOtpApi(ssoApi)
registerAdminApi(ssoApi)
