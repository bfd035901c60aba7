/**
 * The HTML shell every page shares (brand sites, platform index, FanzSSO, FanzDash): one `lang`,
 * a skip link, header/nav/main/footer landmarks, the static stylesheet and the theme's colours in a
 * nonce'd `<style>` (the CSP allows nothing else inline).
 * @module
 */
import type { Child, FC } from 'hono/jsx'
import { html } from 'hono/html'
import type { Theme } from '../routing/brand-view'
import { STYLESHEET_HREF } from './static'
import { themeCss } from './theme'

export interface NavLink {
  href: string
  label: string
}

export interface ShellProps {
  /** the `<title>`; the site name is appended */
  title: string
  siteName: string
  nonce: string
  theme: Theme
  /** current path, to mark the matching nav link with aria-current */
  path: string
  nav?: NavLink[]
  description?: string
  /** the RTA "restricted to adults" label, read by parental-control filters (brand sites) */
  adult?: boolean
  /** the visitor's account corner in the header (sign in / signed in as ... / sign out) */
  account?: Child
  /** content under the footer landmark */
  footer: Child
  children?: Child
}

/** The two-letter mark beside the wordmark, e.g. `BF` for BoyFanz. */
function monogram(name: string): string {
  const capitals = name.replace(/[^A-Z]/g, '')
  return (capitals.length >= 2 ? capitals.slice(0, 2) : name.slice(0, 2)).toUpperCase()
}

const Shell: FC<ShellProps> = (props) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{props.title === props.siteName ? props.siteName : `${props.title} · ${props.siteName}`}</title>
      {props.description ? <meta name="description" content={props.description} /> : null}
      {props.adult ? <meta name="rating" content="RTA-5042-1996-1400-1577-RTA" /> : null}
      <meta name="theme-color" content={props.theme.background} />
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={STYLESHEET_HREF} />
      <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: themeCss(props.theme) }} />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to main content
      </a>
      <header class="site-header">
        <div class="wrap">
          <a class="wordmark" href="/">
            <span class="mark" aria-hidden="true">
              {monogram(props.siteName)}
            </span>
            {props.siteName}
          </a>
          {props.nav?.length ? (
            <nav class="site-nav" aria-label="Main">
              <ul>
                {props.nav.map((link) => (
                  <li>
                    <a href={link.href} aria-current={link.href === props.path ? 'page' : undefined}>
                      {link.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {props.account ? <div class="account">{props.account}</div> : null}
        </div>
      </header>
      <main id="main" tabindex={-1}>
        <div class="wrap">{props.children}</div>
      </main>
      <footer class="site-footer">
        <div class="wrap">{props.footer}</div>
      </footer>
    </body>
  </html>
)

/** A complete document (doctype included), ready for `c.html()`. */
export function page(props: ShellProps) {
  return html`<!doctype html>${<Shell {...props} />}`
}
