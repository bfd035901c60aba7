/**
 * A per-host cookie jar for tests that walk redirect chains across hosts through `call()`: keeps
 * what `Set-Cookie` sets (and deletes what it expires), sends it back to the same host.
 */
export class CookieJar {
  #hosts = new Map<string, Map<string, string>>()

  store(host: string, res: Response): void {
    const jar = this.#hosts.get(host) ?? new Map<string, string>()
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()))
      if (expired || value === '') jar.delete(name)
      else jar.set(name, value)
    }
    this.#hosts.set(host, jar)
  }

  header(host: string): string {
    return [...(this.#hosts.get(host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  get(host: string, name: string): string | undefined {
    return this.#hosts.get(host)?.get(name)
  }

  delete(host: string, name?: string): void {
    if (name === undefined) this.#hosts.delete(host)
    else this.#hosts.get(host)?.delete(name)
  }
}
