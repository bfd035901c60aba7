/**
 * The invisible mark's secret: MEDIA_MARK_KEY (a wrangler secret; `.dev.vars` locally) decides the
 * slot layout (which payload bit each slot carries, each slot's QIM dither). Without it a reader of
 * the code cannot flatten the lattice a copy was marked on, nor write another viewer's serial into
 * a copy to blame them.
 *
 * The key is never rotated: every copy delivered so far is traced with it. The layout's random
 * bytes are HMAC-SHA256(key, label || counter) blocks (a counter-mode expansion, as in HKDF-Expand),
 * drawn once per isolate and key.
 * @module
 */
import { LAYOUT_RANDOM_BYTES, layoutFrom, type MarkLayout } from './invisible'

const LABEL = 'fanz/media-mark/layout/v1'
/** 32 bytes of base64url, as `.dev.vars` fills it; shorter keys are refused rather than used */
const MIN_KEY_CHARS = 32

const layouts = new Map<string, Promise<MarkLayout>>()

/** The mark layout of this deployment's MEDIA_MARK_KEY. */
export function markLayout(env: Pick<Env, 'MEDIA_MARK_KEY'>): Promise<MarkLayout> {
  const key = env.MEDIA_MARK_KEY
  if (typeof key !== 'string' || key.length < MIN_KEY_CHARS) throw new Error(`MEDIA_MARK_KEY must be a secret of at least ${MIN_KEY_CHARS} characters (wrangler secret put MEDIA_MARK_KEY)`)
  let layout = layouts.get(key)
  if (!layout) {
    layout = deriveLayout(key)
    layouts.set(key, layout)
    // a failed derivation is not cached
    layout.catch(() => layouts.delete(key))
  }
  return layout
}

async function deriveLayout(key: string): Promise<MarkLayout> {
  const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const label = new TextEncoder().encode(LABEL)
  const random = new Uint8Array(Math.ceil(LAYOUT_RANDOM_BYTES / 32) * 32)
  for (let block = 0; block * 32 < LAYOUT_RANDOM_BYTES; block++) {
    const input = new Uint8Array(label.byteLength + 4)
    input.set(label, 0)
    new DataView(input.buffer).setUint32(label.byteLength, block)
    random.set(new Uint8Array(await crypto.subtle.sign('HMAC', hmac, input)), block * 32)
  }
  return layoutFrom(random)
}
