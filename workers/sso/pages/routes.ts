/**
 * Sign-in, sign-up, second-factor and account pages of the SSO host (mounted at the root of the SSO host by workers/sso/app.ts, which
 * renders errors and 404/405 for it: no middleware of its own, it would run for every SSO path).
 * One file per page or concern; each handler sets `no-store` and refuses cross-site form posts (forms.ts).
 * @module
 */
import { Hono } from 'hono'
import type { AppEnv } from '../../edge/context'
import { confirmPhoneCode, removePhoneNumber, resendVerification, revokeAllSessions, revokeOneSession, sendPhoneCode, showAccount, updateBrandProfile, updateProfile } from './account'
import { showLogout, submitLogout } from './logout'
import { showMfa, submitMfa } from './mfa'
import { showForgot, showReset, showVerify, submitForgot, submitReset, submitVerify } from './password'
import { showReauth, submitReauth } from './reauth'
import { showSignIn, submitSignIn } from './sign-in'
import { showSignUp, submitSignUp } from './sign-up'
import { confirmTotp, disableTotpRoute, regenerateCodes, showTotp } from './totp'

export const pageRoutes = new Hono<AppEnv>()

pageRoutes.get('/login', showSignIn).post('/login', submitSignIn)
pageRoutes.get('/login/mfa', showMfa).post('/login/mfa', submitMfa)
pageRoutes.get('/signup', showSignUp).post('/signup', submitSignUp)
pageRoutes.get('/logout', showLogout).post('/logout', submitLogout)

pageRoutes.get('/password/forgot', showForgot).post('/password/forgot', submitForgot)
pageRoutes.get('/reset-password', showReset).post('/reset-password', submitReset)
pageRoutes.get('/verify-email', showVerify).post('/verify-email', submitVerify)

pageRoutes.get('/account', showAccount)
pageRoutes.post('/account/profile', updateProfile)
pageRoutes.post('/account/profile/brand', updateBrandProfile)
pageRoutes.post('/account/sessions/revoke', revokeOneSession)
pageRoutes.post('/account/sessions/revoke-all', revokeAllSessions)
pageRoutes.post('/account/verify-email/resend', resendVerification)
pageRoutes.post('/account/phone/send', sendPhoneCode)
pageRoutes.post('/account/phone/confirm', confirmPhoneCode)
pageRoutes.post('/account/phone/remove', removePhoneNumber)
pageRoutes.get('/account/reauth', showReauth).post('/account/reauth', submitReauth)
pageRoutes.get('/account/totp', showTotp).post('/account/totp', confirmTotp)
pageRoutes.post('/account/totp/disable', disableTotpRoute)
pageRoutes.post('/account/recovery-codes', regenerateCodes)
