/**
 * A brand site page: the shared shell with the brand's name, theme, navigation and legal footer
 * (the footer carries the 2257 statement link on every page, compliance.md R14).
 * @module
 */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { AppEnv } from '../edge/context'
import type { BrandView } from '../routing/brand-view'
import { page, type NavLink } from './layout'

export const LEGAL_LINKS: NavLink[] = [
  { href: '/legal/terms', label: 'Terms of Service' },
  { href: '/legal/privacy', label: 'Privacy Policy' },
  { href: '/legal/dmca', label: 'DMCA and copyright' },
  { href: '/legal/2257', label: '18 U.S.C. 2257 Record-Keeping Requirements Compliance Statement' },
]

const BRAND_NAV: NavLink[] = [
  { href: '/', label: 'Home' },
  { href: '/#creators', label: 'Creators' },
]

export function brandOf(c: Context<AppEnv>): BrandView {
  const brand = c.var.brand
  // the edge dispatches to the site app only after resolving a brand host
  if (!brand) throw new Error('brand page rendered without a brand')
  return brand
}

const BrandFooter = ({ brand }: { brand: BrandView }) => (
  <>
    <nav class="footer-nav" aria-label="Legal">
      <ul>
        {LEGAL_LINKS.map((link) => (
          <li>
            <a href={link.href}>{link.label}</a>
          </li>
        ))}
      </ul>
    </nav>
    <p class="fineprint">{brand.name} is for adults only. Everyone shown was 18 or older when the content was made.</p>
    <p class="fineprint">
      © {new Date().getUTCFullYear()} {brand.name}, part of the FANZ network.
    </p>
  </>
)

/**
 * Sign in / sign out in the header. The name comes from the access token's profile claim, so a
 * profile change shows after the brand's next refresh; sign-out is a POST (CSRF-checked there).
 */
function AccountCorner({ c }: { c: Context<AppEnv> }) {
  const auth = c.var.auth
  if (!auth || auth.source !== 'cookie') {
    const here = c.req.path + (new URL(c.req.url).search || '')
    return (
      <a class="button" href={`/auth/login?return_to=${encodeURIComponent(here)}`}>
        Sign in
      </a>
    )
  }
  const name = typeof auth.claims.name === 'string' ? auth.claims.name : 'your account'
  return (
    <form method="post" action="/auth/logout" class="inline-form">
      <span class="signed-in">
        Signed in as <strong>{name}</strong>
      </span>{' '}
      <button type="submit" class="secondary">
        Sign out
      </button>
    </form>
  )
}

export function brandPage(c: Context<AppEnv>, title: string, body: Child, description?: string) {
  const brand = brandOf(c)
  return page({
    title,
    siteName: brand.name,
    nonce: c.var.secureHeadersNonce,
    theme: brand.theme,
    path: c.req.path,
    nav: BRAND_NAV,
    description: description ?? brand.tagline,
    adult: true,
    account: <AccountCorner c={c} />,
    footer: <BrandFooter brand={brand} />,
    children: body,
  })
}
