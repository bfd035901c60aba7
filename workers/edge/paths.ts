/** `/api` and everything below it: served on every host by the API surface. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/')
}

/** API answers that are JSON, i.e. `/api/*` except the HTML docs page. */
export function isJsonApiPath(path: string): boolean {
  return path.startsWith('/api/') && path !== '/api/docs'
}
