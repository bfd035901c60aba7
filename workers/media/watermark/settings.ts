/**
 * Visible-watermark settings (media_watermark_settings): a brand's default (`brand:<id>`, set by
 * operators) and a creator's own choice (`creator:<id>`), read creator over brand over the platform
 * default (`{brand} / @{handle}`, bottom right, 45% opacity).
 * @module
 */
import { z } from '@hono/zod-openapi'
import { inArray } from 'drizzle-orm'
import { mediaWatermarkSettings } from '../../../d1/schema'
import { db } from '../../lib/db'
import { hasGlyph } from './font'
import type { VisibleMark } from './mark-image'

export const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'center'] as const
export const PLACEHOLDERS = ['brand', 'creator', 'handle'] as const

export interface WatermarkSettings {
  visible: boolean
  template: string
  position: VisibleMark['position']
  opacity: number
}

export const DEFAULT_SETTINGS: WatermarkSettings = { visible: true, template: '{brand} / @{handle}', position: 'bottom-right', opacity: 45 }

export type Scope = `brand:${string}` | `creator:${string}`

export const SettingsInput = z
  .object({
    visible: z.boolean(),
    template: z
      .string()
      .min(1)
      .max(80)
      .superRefine((template, ctx) => {
        for (const match of template.matchAll(/\{([^}]*)\}/g)) {
          if (!(PLACEHOLDERS as readonly string[]).includes(match[1]!)) ctx.addIssue({ code: 'custom', message: `unknown placeholder {${match[1]}}: use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` })
        }
        const literal = template.replace(/\{(brand|creator|handle)\}/g, '')
        if (/[{}]/.test(literal)) ctx.addIssue({ code: 'custom', message: 'unbalanced { or } outside a placeholder' })
        const missing = [...new Set([...literal.replace(/[{}]/g, '')].filter((ch) => !hasGlyph(ch)))]
        if (missing.length) ctx.addIssue({ code: 'custom', message: `the watermark font cannot draw ${missing.map((ch) => JSON.stringify(ch)).join(', ')} (letters, digits, space and @ / . - _ only)` })
      })
      .openapi({ example: '{brand} / @{handle}' }),
    position: z.enum(POSITIONS),
    opacity: z.number().int().min(0).max(100).openapi({ description: '0 (invisible) to 100 (opaque)', example: 45 }),
  })
  .openapi('WatermarkSettingsInput')

export const SettingsView = z
  .object({
    scope: z.string().openapi({ example: 'creator:crt_01JFANZ0000000000000000101' }),
    visible: z.boolean(),
    template: z.string(),
    position: z.enum(POSITIONS),
    opacity: z.number().int(),
    /** where the values come from: this scope's own row, the creator's brand, or the platform default */
    source: z.enum(['scope', 'brand', 'default']),
    updated_by: z.string().nullable(),
    updated_at_ms: z.number().int().nullable(),
  })
  .openapi('WatermarkSettings')
export type SettingsView = z.infer<typeof SettingsView>

interface Row extends WatermarkSettings {
  scope: string
  updatedBy: string
  updatedAtMs: number
}

async function rowsFor(env: Pick<Env, 'DB'>, scopes: string[]): Promise<Map<string, Row>> {
  const rows = await db(env.DB).select().from(mediaWatermarkSettings).where(inArray(mediaWatermarkSettings.scope, scopes)).all()
  return new Map(rows.map((r) => [r.scope, r as Row]))
}

function view(scope: Scope, row: Row | undefined, source: SettingsView['source']): SettingsView {
  const s = row ?? DEFAULT_SETTINGS
  return {
    scope,
    visible: s.visible,
    template: s.template,
    position: s.position,
    opacity: s.opacity,
    source,
    updated_by: source === 'scope' && row ? row.updatedBy : null,
    updated_at_ms: source === 'scope' && row ? row.updatedAtMs : null,
  }
}

/** The settings that apply to `scope`: its own row, else (for a creator) its brand's, else the default. */
export async function effectiveSettings(env: Pick<Env, 'DB'>, scope: Scope, brandId: string | null): Promise<SettingsView> {
  const brandScope = brandId ? (`brand:${brandId}` as const) : null
  const rows = await rowsFor(env, brandScope && brandScope !== scope ? [scope, brandScope] : [scope])
  const own = rows.get(scope)
  if (own) return view(scope, own, 'scope')
  const brand = brandScope ? rows.get(brandScope) : undefined
  if (brand) return view(scope, brand, 'brand')
  return view(scope, undefined, 'default')
}

/** Stores `settings` for `scope`; answers what was there before (null: nothing stored) and after. */
export async function saveSettings(env: Pick<Env, 'DB'>, scope: Scope, settings: WatermarkSettings, actor: string, nowMs = Date.now()): Promise<{ before: Row | null; after: Row }> {
  const before = (await rowsFor(env, [scope])).get(scope) ?? null
  const after: Row = { scope, ...settings, updatedBy: actor, updatedAtMs: nowMs }
  await db(env.DB)
    .insert(mediaWatermarkSettings)
    .values(after)
    .onConflictDoUpdate({ target: mediaWatermarkSettings.scope, set: { visible: after.visible, template: after.template, position: after.position, opacity: after.opacity, updatedBy: actor, updatedAtMs: nowMs } })
  return { before, after }
}

/** `template` with its placeholders filled; runs of spaces left by empty values collapse. */
export function fillTemplate(template: string, values: Record<(typeof PLACEHOLDERS)[number], string>): string {
  return template
    .replace(/\{(brand|creator|handle)\}/g, (_, name: (typeof PLACEHOLDERS)[number]) => values[name])
    .replace(/\s+/g, ' ')
    .trim()
}

/** The visible mark for an item of `creatorId` on `brandId`, or null when switched off (or nothing to draw). */
export async function resolveVisibleMark(env: Pick<Env, 'DB'>, brandId: string, creatorId: string): Promise<VisibleMark | null> {
  const names = await env.DB.prepare('SELECT (SELECT name FROM brands WHERE id = ?1) AS brand, c.display_name AS creator, c.handle AS handle FROM (SELECT 1) LEFT JOIN creators c ON c.id = ?2')
    .bind(brandId, creatorId)
    .first<{ brand: string | null; creator: string | null; handle: string | null }>()
  const settings = await effectiveSettings(env, `creator:${creatorId}`, brandId)
  if (!settings.visible) return null
  const text = fillTemplate(settings.template, { brand: names?.brand ?? '', creator: names?.creator ?? '', handle: names?.handle ?? '' })
  if (!text) return null
  return { text, position: settings.position, opacity: settings.opacity }
}
