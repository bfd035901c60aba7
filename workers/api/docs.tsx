export function renderDocs(doc: unknown, _nonce: string): string {
  return `<pre>${JSON.stringify(doc).replaceAll('<', '&lt;')}</pre>`
}
