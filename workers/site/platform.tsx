/**
 * The platform index at the bare platform domain (`localhost` in dev): a map of every brand host and
 * platform surface, so a developer (or an operator) can reach each face of the one Worker.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { getSnapshot } from '../routing/snapshot'
import { hostUrl } from './links'
import { platformPage } from './platform-page'
import { serveStatic } from './static'
import { sandboxGateway } from '../payments/sandbox-gateway'
import { sandboxDisputes } from '../payments/disputes/sandbox-disputes'
import { sandboxCrypto } from '../payments/crypto/sandbox-processor'
import { bankTransferPage } from '../payments/bank/instructions-page'
import { sandboxKyc } from '../vault/kyc/sandbox-provider'
import { sandboxAge } from '../vault/age/sandbox-provider'

export const platformApp = createSurfaceApp()

platformApp.get('/static/*', serveStatic)
// the sandbox payment gateway's hosted pages (outside production): /sandbox-gateway/*
platformApp.route('/', sandboxGateway)
platformApp.route('/', sandboxDisputes)
// the sandbox crypto processor's invoice pages (outside production): /sandbox-crypto/*
platformApp.route('/', sandboxCrypto)
// bank-transfer instructions (every environment): /pay/bank-transfer
platformApp.route('/', bankTransferPage)
// the sandbox identity-verification and age-verification providers (outside production)
platformApp.route('/', sandboxKyc)
platformApp.route('/', sandboxAge)

platformApp.get('/', async (c) => {
  const config = c.var.config
  const snapshot = await getSnapshot(c.env.DB)
  const brands = [...snapshot.brands.values()].sort((a, b) => a.name.localeCompare(b.name))
  const hostsOf = (brandId: string) =>
    [...snapshot.hosts].filter(([, entry]) => entry.brand.id === brandId && entry.kind !== 'www').map(([hostname]) => hostname)
  // locally the brand is reached on its `<slug>.localhost` alias; deployed, on its apex
  const homeOf = (brandId: string, primary: string) => hostsOf(brandId).find((h) => h.endsWith(`.${config.platformDomain}`)) ?? primary
  const surfaces = [
    { name: 'FanzSSO', host: config.hosts.sso, path: '/', what: 'Sign-in, tokens and the signing keys (JWKS)' },
    { name: 'FanzDash', host: config.hosts.dash, path: '/', what: 'Operators’ dashboard: brands, origin pools, audit chain' },
    { name: 'API', host: config.hosts.api, path: '/api/docs', what: 'REST API reference, generated from the OpenAPI 3.1 document' },
  ]
  return c.html(
    platformPage(
      c,
      'FANZ',
      'FANZ platform',
      <>
        <section class="hero" aria-labelledby="title">
          <p class="eyebrow">One Worker, every surface</p>
          <h1 id="title">FANZ platform</h1>
          <p class="lead">Five creator brands, the shared sign-in service, the API and the operators’ dashboard, all served by one edge Worker.</p>
        </section>
        <section aria-labelledby="brands-title">
          <h2 id="brands-title">Brands</h2>
          <ul class="grid">
            {brands.map((brand) => (
              <li class="card">
                <div>
                  <h3>
                    <a href={hostUrl(c, homeOf(brand.id, brand.primaryDomain))}>{brand.name}</a>
                  </h3>
                  <p class="meta">{hostsOf(brand.id).join(', ')}</p>
                  <p>{brand.tagline}</p>
                </div>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="surfaces-title">
          <h2 id="surfaces-title">Platform surfaces</h2>
          <ul class="grid">
            {surfaces.map((surface) => (
              <li class="card">
                <div>
                  <h3>
                    <a href={hostUrl(c, surface.host, surface.path)}>{surface.name}</a>
                  </h3>
                  <p class="meta">{surface.host}</p>
                  <p>{surface.what}</p>
                </div>
              </li>
            ))}
          </ul>
        </section>
      </>,
    ),
  )
})
