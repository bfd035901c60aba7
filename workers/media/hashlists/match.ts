/**
 * Matching uploads against the hash lists, and feeding the platform's own list. The catalogue
 * (which lists exist, which are active, where they come from) is D1 `media_hash_lists`; the
 * entries and the multi-index are the `HashIndex` object (`global`).
 * @module
 */
import { MAX_QUERY_HASHES, type HashIndex, type IndexEntryInput, type IndexMatch } from '../../../durable-objects/hash-index'
import { audit } from '../../compliance/audit'
import { normalizeHash } from './hamming'

export interface HashMatch {
  listId: string
  source: 'ncii' | 'illegal_content' | 'platform_removed' | 'manual'
  kind: 'pdq' | 'md5'
  /** the list entry that matched */
  entryHash: string
  /** which of the query's hashes matched it */
  queryHash: string
  distance: number
  /** the entry's reference (provider id, or the removed item's id for the platform list) */
  ref: string | null
}

/** The platform's own list (seeded in d1/seed.sql and migration 0015): removed content. */
export const PLATFORM_LIST_ID = 'hl_platform_removed'

export function hashIndex(env: Env): DurableObjectStub<HashIndex> {
  return env.HASH_INDEX.get(env.HASH_INDEX.idFromName('global')) as DurableObjectStub<HashIndex>
}

/** A HashIndex refusal that a caller of this module should never cause (a bug, not bad input). */
export class HashIndexRefused extends Error {
  constructor(readonly code: string, detail: string) {
    super(`hash index refused: ${code} ${detail}`)
    this.name = 'HashIndexRefused'
  }
}

type ListSource = HashMatch['source']

/** Active lists and their source, from the catalogue. */
export async function activeLists(env: Env): Promise<Map<string, ListSource>> {
  const { results } = await env.DB.prepare('SELECT id, source FROM media_hash_lists WHERE active = 1').all<{ id: string; source: ListSource }>()
  return new Map(results.map((r) => [r.id, r.source]))
}

/** Adds the source of each match's list (from `lists`) to the object's answer. */
export function withSources(matches: IndexMatch[], lists: Map<string, ListSource>): HashMatch[] {
  return matches.map((m) => ({ ...m, source: lists.get(m.listId) ?? 'manual' }))
}

/**
 * Every active-list entry within `maxDistance` (PDQ, default 31) of any query PDQ hash, or equal to
 * the MD5; one match per entry (its closest query hash), closest first. A long query (a video's
 * keyframes) is asked in slices of the object's per-call limit.
 */
export async function matchHashes(env: Env, query: { pdq: readonly string[]; md5?: string | null }, maxDistance = 31): Promise<HashMatch[]> {
  const lists = await activeLists(env)
  if (!lists.size || (!query.pdq.length && !query.md5)) return []
  const index = hashIndex(env)
  const best = new Map<string, IndexMatch>()
  for (let at = 0; at === 0 || at < query.pdq.length; at += MAX_QUERY_HASHES) {
    const r = await index.match({ pdq: query.pdq.slice(at, at + MAX_QUERY_HASHES), md5: at === 0 ? (query.md5 ?? null) : null }, maxDistance, [...lists.keys()])
    if (!r.ok) throw new HashIndexRefused(r.code, JSON.stringify(r))
    for (const m of r.matches) {
      const key = `${m.listId}:${m.kind}:${m.entryHash}`
      const seen = best.get(key)
      if (!seen || m.distance < seen.distance) best.set(key, m)
    }
  }
  return withSources([...best.values()].sort((a, b) => a.distance - b.distance), lists)
}

/** Add a removed item's hashes to the platform's own list (`hl_platform_removed`), so re-uploads are refused. */
export async function addToPlatformList(env: Env, entry: { itemId: string; pdq: string | readonly string[] | null; md5: string | null; reason: string }): Promise<void> {
  const entries: IndexEntryInput[] = []
  // a video brings the PDQs of its keyframes
  const pdqs = entry.pdq === null ? [] : typeof entry.pdq === 'string' ? [entry.pdq] : [...new Set(entry.pdq)]
  for (const hash of [...pdqs, entry.md5]) {
    if (hash == null) continue
    const parsed = normalizeHash(hash)
    if (!parsed) throw new HashIndexRefused('INVALID_HASH', `${entry.itemId}: ${hash.slice(0, 80)}`)
    entries.push({ kind: parsed.kind, hash: parsed.hex, ref: entry.itemId })
  }
  if (!entries.length) return
  const r = await hashIndex(env).add(PLATFORM_LIST_ID, entries)
  if (!r.ok) throw new HashIndexRefused(r.code, JSON.stringify(r))
  if (r.added) {
    await env.DB.prepare('UPDATE media_hash_lists SET entry_count = entry_count + ?, updated_at_ms = ? WHERE id = ?').bind(r.added, Date.now(), PLATFORM_LIST_ID).run()
  }
  await audit({ env, actor: 'system:media-removal' }, 'media.hashlist.platform_add', `hash_list:${PLATFORM_LIST_ID}`, {
    item_id: entry.itemId,
    reason: entry.reason.slice(0, 500),
    added: r.added,
    duplicates: r.duplicates,
    kinds: entries.map((e) => e.kind),
  })
}
