/**
 * Request and response shapes of the FanzSSO account API (api.ts). Bodies are `.strict()`: an
 * unknown field is a 422 naming it, never silently ignored.
 * @module
 */
import { z } from '@hono/zod-openapi'
import { emailSchema } from './email'
import { MAX_LENGTH } from './password-policy'
import { TOKEN_LENGTH, TOKEN_PATTERN } from './email-tokens'

/** Length and shape only; the NIST policy (password-policy.ts) runs in the handler with the email as context. */
const PasswordInput = z.string().min(1).max(MAX_LENGTH * 4).openapi({ description: `at least 15 characters, not a common password; up to ${MAX_LENGTH}` })
const TokenInput = z
  .string()
  .length(TOKEN_LENGTH)
  .regex(TOKEN_PATTERN, 'must be the token from the email link')
  .openapi({ description: 'the `token` query parameter of the emailed link' })

export const SignUpRequest = z
  .object({
    email: emailSchema,
    password: PasswordInput,
    display_name: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[^\p{Cc}]*$/u, 'must contain only printable characters'),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 language tag such as en or pt-BR')
      .default('en'),
  })
  .strict()
  .openapi('SsoSignUpRequest')

export const Account = z
  .object({
    id: z.string(),
    email: z.string(),
    display_name: z.string(),
    locale: z.string(),
    email_verified: z.boolean(),
    created_at: z.iso.datetime(),
  })
  .openapi('SsoAccount')

export const VerifyEmailRequest = z.object({ token: TokenInput }).strict().openapi('SsoVerifyEmailRequest')

export const VerifyEmailResponse = z.object({ user_id: z.string(), email_verified_at: z.iso.datetime() }).openapi('SsoEmailVerified')

export const ForgotPasswordRequest = z.object({ email: emailSchema }).strict().openapi('SsoForgotPasswordRequest')

export const ForgotPasswordResponse = z.object({ status: z.literal('accepted'), detail: z.string() }).openapi('SsoForgotPasswordAccepted')

export const ResetPasswordRequest = z.object({ token: TokenInput, password: PasswordInput }).strict().openapi('SsoResetPasswordRequest')

export const ResetPasswordResponse = z.object({ status: z.literal('password_reset'), sessions_revoked: z.number().int() }).openapi('SsoPasswordReset')

export const OutboxQuery = z.object({ to: emailSchema, limit: z.coerce.number().int().min(1).max(100).default(20) })

export const OutboxMessage = z
  .object({ id: z.number().int(), to: z.string(), from: z.string(), subject: z.string(), text: z.string(), html: z.string(), created_at: z.iso.datetime() })
  .openapi('SsoOutboxMessage')

export const TooManyRequests = {
  description: 'Too many attempts from this address or for this account; see Retry-After',
  headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' as const } } },
}
