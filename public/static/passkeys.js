// Passkeys on the SSO host: "Sign in with a passkey" (#passkey-sign-in) and the account page's list
// (#passkey-add, [data-passkey-remove]). Plain script, no bundler; loaded with the page's CSP nonce.
// The server is the JSON API of workers/sso/passkeys/routes.ts on the same origin (cookies ride along).
;(() => {
  'use strict'
  // both components may be on one page, each with its own <script> tag: wire once
  if (window.fanzPasskeysLoaded) return
  window.fanzPasskeysLoaded = true

  const supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials && typeof navigator.credentials.get === 'function'

  class ServerError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `the server answered ${status}`)
      this.status = status
      this.code = problem && problem.code
      this.reauth = problem && typeof problem.reauth === 'string' && /^\/(?!\/)/.test(problem.reauth) ? problem.reauth : null
    }
  }

  // --- base64url <-> bytes, for browsers without the WebAuthn JSON helpers ---
  function fromB64url(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/')
    const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes.buffer
  }

  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer)
    let binary = ''
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }

  const withIds = (list) => (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }))

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') return PublicKeyCredential.parseCreationOptionsFromJSON(json)
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    })
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') return PublicKeyCredential.parseRequestOptionsFromJSON(json)
    return Object.assign({}, json, { challenge: fromB64url(json.challenge), allowCredentials: withIds(json.allowCredentials) })
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === 'function') return credential.toJSON()
    const r = credential.response
    const out = {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: typeof credential.getClientExtensionResults === 'function' ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    }
    if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject)
      out.response.transports = typeof r.getTransports === 'function' ? r.getTransports() : []
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData)
      out.response.signature = toB64url(r.signature)
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle)
    }
    return out
  }

  async function send(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { accept: 'application/json, application/problem+json' } }
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    const res = await fetch(path, init)
    let data = null
    if (res.status !== 204) {
      try {
        data = await res.json()
      } catch {
        data = null
      }
    }
    if (!res.ok) throw new ServerError(res.status, data)
    return data
  }

  function explain(err, creating) {
    if (err instanceof ServerError) {
      if (err.code === 'STEP_UP_REQUIRED') return 'For your security, adding a passkey needs a recent sign-in. Confirm your password, then add the passkey.'
      if (err.code === 'UNAUTHENTICATED') return 'Your session has ended. Sign in again.'
      return err.message
    }
    const name = err && err.name
    if (name === 'NotAllowedError' || name === 'AbortError') return 'The passkey request was cancelled or timed out. Try again when ready.'
    if (creating && name === 'InvalidStateError') return 'This device already holds a passkey for your account.'
    if (name === 'SecurityError') return 'This page cannot use passkeys (insecure connection or wrong address).'
    return 'Something went wrong with the passkey. Try again, or use another way to sign in.'
  }

  function say(region, text, link) {
    if (!region) return
    region.textContent = text
    if (link) {
      const a = document.createElement('a')
      a.href = link.href
      a.textContent = link.text
      region.append(' ', a)
    }
  }

  // --- sign-in (passwordless or second factor) ---
  function wireSignIn(button) {
    const box = button.closest('[data-passkey-sign-in]')
    const status = document.getElementById('passkey-sign-in-status')
    const requestId = (box && box.getAttribute('data-request')) || ''
    if (!supported) {
      say(status, 'This browser cannot use passkeys.')
      return
    }
    button.hidden = false
    button.addEventListener('click', async () => {
      button.disabled = true
      button.setAttribute('aria-busy', 'true')
      say(status, 'Waiting for your passkey…')
      try {
        const options = await send('POST', '/passkeys/authenticate/options', requestId ? { request: requestId } : {})
        const credential = await navigator.credentials.get({ publicKey: requestOptions(options) })
        if (!credential) throw new DOMException('no credential', 'NotAllowedError')
        say(status, 'Checking your passkey…')
        const body = { response: credentialJSON(credential) }
        if (requestId) body.request = requestId
        const result = await send('POST', '/passkeys/authenticate/verify', body)
        // only a path on this host: never follow an absolute or protocol-relative address
        const next = result && typeof result.next === 'string' && /^\/(?!\/)/.test(result.next) ? result.next : '/account'
        say(status, 'Signed in. Continuing…')
        location.assign(next)
      } catch (err) {
        say(status, explain(err, false))
        button.disabled = false
        button.removeAttribute('aria-busy')
      }
    })
  }

  // --- account page: list, add, remove ---
  const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })

  function time(iso) {
    const el = document.createElement('time')
    el.dateTime = iso
    el.textContent = DATE.format(new Date(iso))
    return el
  }

  function item(passkey) {
    const li = document.createElement('li')
    li.setAttribute('data-passkey-id', passkey.id)
    const name = document.createElement('span')
    name.className = 'passkey-name'
    name.textContent = passkey.name
    const meta = document.createElement('span')
    meta.className = 'meta'
    meta.append('added ', time(passkey.created_at))
    if (passkey.last_used_at) meta.append(', last used ', time(passkey.last_used_at))
    else meta.append(', never used')
    meta.append(passkey.backed_up ? ', synced' : ', this device only')
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'secondary'
    remove.setAttribute('data-passkey-remove', passkey.id)
    remove.setAttribute('aria-label', `Remove passkey ${passkey.name}`)
    remove.textContent = 'Remove'
    li.append(name, ' ', meta, ' ', remove)
    return li
  }

  async function refreshList() {
    const list = document.getElementById('passkey-list')
    const empty = document.getElementById('passkey-empty')
    const data = await send('GET', '/passkeys')
    list.replaceChildren(...data.passkeys.map(item))
    if (empty) empty.hidden = data.passkeys.length > 0
  }

  function defaultName() {
    const ua = navigator.userAgent
    const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser'
    const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : 'this device'
    return `${browser} on ${os}`
  }

  function wireManager(section) {
    const status = document.getElementById('passkey-manager-status')
    const form = document.getElementById('passkey-add-form')
    const add = document.getElementById('passkey-add')
    const input = document.getElementById('passkey-name')
    const list = document.getElementById('passkey-list')

    if (supported && form && add && input) {
      form.hidden = false
      if (!input.value) input.placeholder = defaultName()
      add.addEventListener('click', async () => {
        const name = input.value.trim() || defaultName()
        if (name.length > 64) {
          say(status, 'Use at most 64 characters for the name.')
          input.focus()
          return
        }
        add.disabled = true
        add.setAttribute('aria-busy', 'true')
        say(status, 'Follow your browser to create the passkey…')
        try {
          const options = await send('POST', '/passkeys/register/options', {})
          const credential = await navigator.credentials.create({ publicKey: creationOptions(options) })
          if (!credential) throw new DOMException('no credential', 'NotAllowedError')
          say(status, 'Saving the passkey…')
          await send('POST', '/passkeys/register/verify', { name, response: credentialJSON(credential) })
          input.value = ''
          await refreshList()
          say(status, `Passkey “${name}” added.`)
        } catch (err) {
          say(status, explain(err, true), err instanceof ServerError && err.reauth ? { href: err.reauth, text: 'Confirm your password' } : null)
        } finally {
          add.disabled = false
          add.removeAttribute('aria-busy')
        }
      })
    } else if (!supported) {
      say(status, 'This browser cannot create passkeys. You can still remove the ones listed.')
    }

    // one listener for every remove button, including the ones drawn after a refresh
    list.addEventListener('click', async (event) => {
      const button = event.target instanceof Element ? event.target.closest('[data-passkey-remove]') : null
      if (!button) return
      const id = button.getAttribute('data-passkey-remove')
      const row = button.closest('li')
      const name = row ? (row.querySelector('.passkey-name') || row).textContent : 'the passkey'
      button.disabled = true
      try {
        await send('DELETE', `/passkeys/${encodeURIComponent(id)}`)
        await refreshList()
        say(status, `Passkey “${name}” removed.`)
        // the focused button is gone: keep keyboard users in the section
        const heading = section.querySelector('h2')
        if (add && !add.closest('[hidden]')) add.focus()
        else if (heading) {
          heading.tabIndex = -1
          heading.focus()
        }
      } catch (err) {
        say(status, explain(err, false))
        button.disabled = false
      }
    })
  }

  function start() {
    const signIn = document.getElementById('passkey-sign-in')
    if (signIn) wireSignIn(signIn)
    const manager = document.querySelector('[data-passkey-manager]')
    if (manager) wireManager(manager)
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
