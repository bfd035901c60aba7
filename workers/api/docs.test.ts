import { describe, expect, it } from 'vitest'
import { call } from '../../test/helpers'

describe('API docs page', () => {
  it('renders the OpenAPI document as accessible HTML, grouped by tag, with no script', async () => {
    const res = await call('api.localhost', '/api/docs')
    const body = await res.text()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const spec = (await (await call('api.localhost', '/api/openapi.json')).json()) as { info: { title: string }; paths: Record<string, Record<string, { tags?: string[] }>> }
    expect(body).toContain(`<h1>${spec.info.title}</h1>`)
    expect(body).toContain('<html lang="en">')
    expect(body.match(/<h1[\s>]/g)).toHaveLength(1)
    expect(body).toContain('href="/api/openapi.json"')
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(body).toContain(`<span class="method">${method.toUpperCase()}</span> <code>${path}</code>`)
        for (const tag of op.tags ?? []) expect(body).toContain(`id="tag-${tag}"`)
      }
    }
    expect(body).toContain('Request body')
    expect(body).toContain('Responses')
    expect(body).not.toContain('<script')
    const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1]
    expect(body).toContain(`<style nonce="${nonce}">`)
  })

  it('is reachable on brand hosts too (the API is served everywhere)', async () => {
    expect((await call('boyfanz.localhost', '/api/docs')).status).toBe(200)
  })
})
