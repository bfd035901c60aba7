import { readFileSync } from 'node:fs'

// workerd has no file system: binary fixtures (images, videos, hash lists from ../shared/data) are
// imported as `<path>?bytes` and inlined into the test bundle as a Uint8Array.
/** @returns {import('vite').Plugin} */
export function bytesFixtures() {
  return {
    name: 'fanz-bytes-fixtures',
    enforce: 'pre',
    load(/** @type {string} */ id) {
      if (!id.endsWith('?bytes')) return null
      const file = id.slice(0, -'?bytes'.length)
      const base64 = readFileSync(file).toString('base64')
      return `const b = atob(${JSON.stringify(base64)}); const a = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) a[i] = b.charCodeAt(i); export default a`
    },
  }
}
