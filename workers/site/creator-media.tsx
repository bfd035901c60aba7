/**
 * `/me/media` on a brand: the signed-in creator's media on that brand (title, kind, status and why,
 * size, when) and their storage quota. Read-only: uploads go through the tus endpoint
 * (`/api/media/uploads/tus`) from an uploader, changes through `/api/media/items`.
 * @module
 */
import type { Context } from 'hono'
import type { AppEnv } from '../edge/context'
import { quotaOf, usageOf } from '../media/uploads/limits'
import { brandOf, brandPage } from './brand-page'

const STATUS_TEXT: Record<string, string> = {
  uploading: 'Uploading',
  processing: 'Being checked',
  quarantined: 'Held for review by compliance',
  in_review: 'Waiting for a moderator',
  rejected: 'Rejected',
  approved: 'Approved, not yet published',
  published: 'Published',
  removed: 'Removed',
  failed: 'Failed',
}

/** Bytes in binary units, one decimal. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}

export async function creatorMediaPage(c: Context<AppEnv>): Promise<Response> {
  c.header('cache-control', 'private, no-store')
  const auth = c.var.auth
  if (auth?.source !== 'cookie') return c.redirect(`/auth/login?return_to=${encodeURIComponent('/me/media')}`, 302)
  const brand = brandOf(c)
  const { results: profiles } = await c.env.DB.prepare('SELECT id, handle, display_name FROM creators WHERE user_id = ? AND brand_id = ? ORDER BY display_name')
    .bind(auth.subject, brand.id)
    .all<{ id: string; handle: string; display_name: string }>()
  const sections = await Promise.all(
    profiles.map(async (p) => {
      const { results: items } = await c.env.DB.prepare('SELECT id, title, kind, status, status_reason, size_bytes, created_at_ms FROM media_items WHERE creator_id = ? ORDER BY id DESC LIMIT 100')
        .bind(p.id)
        .all<{ id: string; title: string; kind: string; status: string; status_reason: string | null; size_bytes: number | null; created_at_ms: number }>()
      const quota = await quotaOf(c.env, p.id)
      const usage = await usageOf(c.env, p.id)
      return { profile: p, items, quota, used: usage.storedBytes + usage.reservedBytes }
    }),
  )
  return c.html(
    brandPage(
      c,
      'Media',
      <section aria-labelledby="title">
        <h1 id="title">Media</h1>
        {sections.length === 0 ? <p>You have no creator profile on {brand.name}.</p> : null}
        {sections.map(({ profile, items, quota, used }) => (
          <section aria-labelledby={`media-${profile.id}`}>
            <h2 id={`media-${profile.id}`}>
              {profile.display_name} (@{profile.handle})
            </h2>
            <p data-quota={profile.id}>
              Storage: {formatBytes(used)} of {formatBytes(quota)} used.
            </p>
            {items.length === 0 ? (
              <p>No media yet.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption>Your media, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Title</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Status</th>
                      <th scope="col">Size</th>
                      <th scope="col">Uploaded</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item) => (
                      <tr data-item={item.id}>
                        <td>{item.title || 'Untitled'}</td>
                        <td>{item.kind === 'video' ? 'Video' : 'Image'}</td>
                        <td data-status={item.status}>
                          {STATUS_TEXT[item.status] ?? item.status}
                          {item.status_reason ? ` (${item.status_reason.replaceAll('_', ' ')})` : ''}
                        </td>
                        <td>{item.size_bytes === null ? '-' : formatBytes(item.size_bytes)}</td>
                        <td>
                          <time datetime={new Date(item.created_at_ms).toISOString()}>{new Date(item.created_at_ms).toISOString().slice(0, 10)}</time>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        ))}
      </section>,
    ),
  )
}
