/** `/api` and everything below it: served on every host by the API surface. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/')
}

/** API answers that are JSON, i.e. `/api/*` except the HTML docs page. */
export function isJsonApiPath(path: string): boolean {
  return path.startsWith('/api/') && path !== '/api/docs'
}

/**
 * A path safe to write into logs and problem answers: bearer capabilities carried in the path (the
 * vault's single-use download tokens, media delivery tokens) are replaced by their template, so a log reader cannot
 * replay one inside its lifetime.
 */
export function loggablePath(path: string): string {
  return path.replace(/^(\/api\/vault\/downloads\/)[^/]+/, '$1{token}').replace(/^(\/api\/media\/delivery\/)[^/]+/, '$1{token}')
}
