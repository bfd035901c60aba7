/**
 * Passkey pieces for the SSO host's pages: the "Sign in with a passkey" button (sign-in and
 * second-factor pages) and the passkey list of the account page. Behaviour comes from
 * /static/passkeys.js (loaded with the page's CSP nonce: no inline handlers). The WebAuthn controls
 * start hidden and the script shows them only where the browser can do WebAuthn, so a browser
 * without passkeys is never offered a button that cannot work.
 * @module
 */
import type { PasskeyView } from './routes'

export const PASSKEYS_SCRIPT = '/static/passkeys.js'

function PasskeyScript({ nonce }: { nonce: string }) {
  return <script src={PASSKEYS_SCRIPT} nonce={nonce} defer></script>
}

export interface PasskeySignInProps {
  /** the page's CSP nonce (`c.var.secureHeadersNonce`) */
  nonce: string
  /** the pending authorization request (`arq_...`) to continue after signing in, or null */
  requestId: string | null
}

/**
 * Passwordless sign-in, or the passkey second factor when a sign-in is waiting for one (the server
 * decides from the pending-MFA cookie). On success the script navigates to the answer's `next`.
 */
export function PasskeySignIn({ nonce, requestId }: PasskeySignInProps) {
  return (
    <div class="passkey-sign-in" data-passkey-sign-in="" data-request={requestId ?? ''}>
      <p class="actions">
        <button type="button" id="passkey-sign-in" class="secondary" hidden aria-describedby="passkey-sign-in-status">
          Sign in with a passkey
        </button>
      </p>
      <p id="passkey-sign-in-status" class="hint" role="status" aria-live="polite"></p>
      <PasskeyScript nonce={nonce} />
    </div>
  )
}

export interface PasskeyManagerProps {
  nonce: string
  /** the signed-in user's passkeys, as `GET /passkeys` lists them */
  passkeys: PasskeyView[]
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })

function When({ iso }: { iso: string }) {
  return <time datetime={iso}>{DATE.format(new Date(iso))}</time>
}

export function PasskeyItem({ passkey }: { passkey: PasskeyView }) {
  return (
    <li data-passkey-id={passkey.id}>
      <span class="passkey-name">{passkey.name}</span>{' '}
      <span class="meta">
        added <When iso={passkey.created_at} />
        {passkey.last_used_at ? (
          <>
            , last used <When iso={passkey.last_used_at} />
          </>
        ) : (
          ', never used'
        )}
        {passkey.backed_up ? ', synced' : ', this device only'}
      </span>{' '}
      <button type="button" class="secondary" data-passkey-remove={passkey.id} aria-label={`Remove passkey ${passkey.name}`}>
        Remove
      </button>
    </li>
  )
}

/** The account page's passkey section: the list with remove buttons, a name and "Add a passkey". */
export function PasskeyManager({ nonce, passkeys }: PasskeyManagerProps) {
  return (
    <section class="passkey-manager" data-passkey-manager="" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      <p>A passkey signs you in with your fingerprint, face or device PIN instead of a password, and cannot be phished.</p>
      <ul id="passkey-list" class="stack">
        {passkeys.map((passkey) => (
          <PasskeyItem passkey={passkey} />
        ))}
      </ul>
      <p id="passkey-empty" hidden={passkeys.length > 0}>
        You have no passkeys yet.
      </p>
      <div id="passkey-add-form" hidden>
        <label for="passkey-name">Name for the new passkey</label>
        <p id="passkey-name-hint" class="hint">
          So you can tell your passkeys apart, like "Work laptop". Up to 64 characters.
        </p>
        <input id="passkey-name" name="passkey-name" type="text" maxlength={64} autocomplete="off" aria-describedby="passkey-name-hint" />
        <p class="actions">
          <button type="button" id="passkey-add">
            Add a passkey
          </button>
        </p>
      </div>
      <p id="passkey-manager-status" role="status" aria-live="polite"></p>
      <PasskeyScript nonce={nonce} />
    </section>
  )
}
