// SCAFFOLD: contract of the hash-lists part (helper D replaces the body, keeps the signatures)

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

/** Every active-list entry within `maxDistance` (PDQ, default 31) of any query PDQ hash, or equal to the MD5. */
export async function matchHashes(_env: Env, _query: { pdq: string[]; md5?: string | null }, _maxDistance = 31): Promise<HashMatch[]> {
  throw new Error('SCAFFOLD')
}

/** Add a removed item's hashes to the platform's own list (`hl_platform_removed`), so re-uploads are refused. */
export async function addToPlatformList(_env: Env, _entry: { itemId: string; pdq: string | null; md5: string | null; reason: string }): Promise<void> {
  throw new Error('SCAFFOLD')
}
