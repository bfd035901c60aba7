/**
 * Brand site pages: home, creator, the age gate, 451 and 404. Server-rendered; no client script.
 * @module
 */
import { SubscribeBox } from './creator-money'
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { gateExplanation, placeName } from './av-text'
import { MethodList } from './method-list'
import { brandOf, brandPage } from './brand-page'
import { selfUrl, ssoUrl } from './links'

export interface CreatorCard {
  handle: string
  displayName: string
  bio: string
}

/** Where "Leave" goes: a neutral, general-audience page. */
export const LEAVE_URL = 'https://www.google.com/'

function initials(name: string): string {
  const parts = name.trim().split(/\s+/)
  return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')).toUpperCase()
}

export function homePage(c: Context<AppEnv>, creators: CreatorCard[]) {
  const brand = brandOf(c)
  return brandPage(
    c,
    brand.name,
    <>
      <section class="hero" aria-labelledby="hero-title">
        <p class="eyebrow">Adults only · 18+</p>
        <h1 id="hero-title">{brand.name}</h1>
        <p class="lead">{brand.tagline}</p>
        <div class="actions">
          <a class="button" href="#creators">
            Meet the creators
          </a>
        </div>
      </section>
      <section id="creators" aria-labelledby="creators-title">
        <h2 id="creators-title">Featured creators</h2>
        {creators.length ? (
          <ul class="grid">
            {creators.map((creator) => (
              <li class="card">
                <span class="avatar" aria-hidden="true">
                  {initials(creator.displayName)}
                </span>
                <div>
                  <h3>
                    <a href={`/c/${creator.handle}`}>{creator.displayName}</a>
                  </h3>
                  <p class="meta">@{creator.handle}</p>
                  <p>{creator.bio}</p>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">No creators have joined {brand.name} yet.</p>
        )}
      </section>
    </>,
  )
}

export function creatorPage(c: Context<AppEnv>, creator: CreatorCard) {
  const brand = brandOf(c)
  return brandPage(
    c,
    creator.displayName,
    <>
      <div class="profile">
        <span class="avatar large" aria-hidden="true">
          {initials(creator.displayName)}
        </span>
        <div>
          <h1>{creator.displayName}</h1>
          <p class="meta">
            @{creator.handle} on {brand.name}
          </p>
        </div>
      </div>
      <p class="lead">{creator.bio}</p>
      <SubscribeBox c={c} handle={creator.handle} displayName={creator.displayName} />
      <section aria-labelledby="posts-title">
        <h2 id="posts-title">Posts</h2>
        {/* filled by the media and subscription issues */}
        <div class="empty" id="creator-content">
          <p>{creator.displayName} has not published anything here yet.</p>
        </div>
      </section>
    </>,
    `${creator.displayName} (@${creator.handle}) on ${brand.name}`,
  )
}

/** The interstitial shown instead of content until the visitor's age is verified. No imagery. */
export function ageGatePage(c: Context<AppEnv>) {
  const brand = brandOf(c)
  const policy = c.var.jurisdiction
  const geo = c.var.geo
  const verifyUrl = ssoUrl(c, `/age-verification?return_to=${encodeURIComponent(selfUrl(c))}`)
  return brandPage(
    c,
    'Age verification required',
    <div class="panel">
      <span class="badge" aria-hidden="true">
        18+
      </span>
      <h1>Age verification required</h1>
      <p class="lead">{brand.name} is for adults only.</p>
      <p>{gateExplanation(policy, geo)}</p>
      <dl class="facts">
        <dt>Your location</dt>
        <dd>{placeName(geo) ?? 'Unknown'}</dd>
        <dt>Applicable rule</dt>
        <dd>{policy.law ?? 'Fail-safe check for unknown or unconfirmed locations'}</dd>
        <dt>Details</dt>
        <dd>{policy.reason}</dd>
      </dl>
      <h2>Ways to verify</h2>
      <MethodList methods={policy.methods} />
      <p>
        Ticking a box that says you are 18 is not accepted. The check runs on FanzSSO, the sign-in service shared by every FANZ brand, and then
        brings you back to this page.
      </p>
      <div class="actions">
        <a class="button" href={verifyUrl}>
          Verify my age
        </a>
        <a class="button secondary" href={LEAVE_URL}>
          Leave
        </a>
      </div>
    </div>,
    `${brand.name} is for adults only: age verification is required in your location.`,
  )
}

export function blockedPage(c: Context<AppEnv>) {
  const brand = brandOf(c)
  const place = placeName(c.var.geo)
  return brandPage(
    c,
    'Not available in your region',
    <div class="panel">
      <p class="eyebrow">Error 451</p>
      <h1>{brand.name} is not available in your region</h1>
      <p>
        {brand.name} cannot be offered {place ? `in ${place}` : 'where you are'} for legal reasons. The legal notices linked below stay available.
      </p>
    </div>,
  )
}

export function notFoundPage(c: Context<AppEnv>, message?: string) {
  const brand = brandOf(c)
  return brandPage(
    c,
    'Page not found',
    <div class="panel">
      <p class="eyebrow">Error 404</p>
      <h1>Page not found</h1>
      <p>{message ?? `There is nothing at ${c.req.path} on ${brand.name}.`}</p>
      <div class="actions">
        <a class="button" href="/">
          Go to the {brand.name} home page
        </a>
      </div>
    </div>,
  )
}

export function errorPage(c: Context<AppEnv>, status: number) {
  return brandPage(
    c,
    'Something went wrong',
    <div class="panel">
      <p class="eyebrow">Error {status}</p>
      <h1>Something went wrong</h1>
      <p>
        The page could not be shown. Please try again in a moment. If it keeps happening, quote reference <code>{c.var.requestId}</code>.
      </p>
    </div>,
  )
}
