/**
 * The classifier before human review. It never publishes anything by itself: every item still goes
 * to a moderator; the verdict only orders the queue (priority, SLA) and opens a compliance case
 * when it says `block`.
 *
 * Adapters:
 * - Workers AI (production, `env.AI`): Workers AI's only image classifier (resnet-50) has ImageNet
 *   labels and no NSFW/CSAM class (media.md §1.1), so a vision LLM is asked for scores per risk
 *   category in strict JSON. A model's text is untrusted: anything that is not exactly the JSON
 *   asked for (or an error) becomes `review` with no scores, never `allow`.
 * - Sandbox (everywhere `env.AI` is not bound: local, tests): deterministic. Scores come from the
 *   content's SHA-256 (low, always under the review threshold), unless the item carries a marker in
 *   its title or tags: `sandbox:block` (minors 0.97), `sandbox:review` (non_consent 0.55),
 *   `sandbox:allow` (all 0). Markers exist only in the sandbox; the AI adapter ignores them.
 * @module
 */
import { z } from 'zod'
import { log } from '../../edge/logger'
import { base64url } from '../../lib/encoding'

export const CLASSIFIER_CATEGORIES = ['minors', 'non_consent', 'violence', 'illegal'] as const
export type ClassifierCategory = (typeof CLASSIFIER_CATEGORIES)[number]
export type Verdict = 'allow' | 'review' | 'block'

export interface ClassifierInput {
  itemId: string
  kind: 'image' | 'video'
  /** SHA-256 of the original (hex) */
  sha256: string
  title: string
  description: string
  tags: string[]
  /** a small JPEG still to look at (the image, or a video keyframe), made only when an adapter asks; null when none exists */
  still: () => Promise<{ bytes: Uint8Array; mime: 'image/jpeg' | 'image/png' } | null>
}

export interface ClassifierResult {
  verdict: Verdict
  /** 0..1 per category; empty when the model gave nothing usable */
  scores: Record<string, number>
  model: string
  /** why the verdict is not the model's own (unparseable answer, model error) */
  note?: string
}

export interface Classifier {
  classify(input: ClassifierInput): Promise<ClassifierResult>
}

/** At or above: `block` (any category). */
export const BLOCK_THRESHOLD = 0.8
/** At or above: `review` at raised priority. */
export const REVIEW_THRESHOLD = 0.4

export function verdictOf(scores: Record<string, number>): Verdict {
  const values = Object.values(scores)
  if (values.some((v) => v >= BLOCK_THRESHOLD)) return 'block'
  if (values.some((v) => v >= REVIEW_THRESHOLD)) return 'review'
  return 'allow'
}

export const SANDBOX_MODEL = 'sandbox-classifier-v1'
export const SANDBOX_MARKERS = { block: 'sandbox:block', review: 'sandbox:review', allow: 'sandbox:allow' } as const

function markerIn(input: ClassifierInput): Verdict | null {
  const words = [...input.title.toLowerCase().split(/\s+/), ...input.tags.map((t) => t.toLowerCase())]
  for (const verdict of ['block', 'review', 'allow'] as const) if (words.includes(SANDBOX_MARKERS[verdict])) return verdict
  return null
}

/** Deterministic stand-in for the AI: same input, same answer (see the module notes). */
export const sandboxClassifier: Classifier = {
  async classify(input) {
    const marker = markerIn(input)
    const scores: Record<string, number> = {}
    CLASSIFIER_CATEGORIES.forEach((category, i) => {
      // two hex digits of the content hash per category, scaled into [0, 0.2): under REVIEW_THRESHOLD
      const byte = Number.parseInt(input.sha256.slice(i * 2, i * 2 + 2) || '00', 16)
      scores[category] = Math.round((byte / 256) * 0.2 * 1000) / 1000
    })
    if (marker === 'block') scores.minors = 0.97
    if (marker === 'review') scores.non_consent = 0.55
    if (marker === 'allow') for (const c of CLASSIFIER_CATEGORIES) scores[c] = 0
    return { verdict: verdictOf(scores), scores, model: SANDBOX_MODEL }
  },
}

export const AI_MODEL = '@cf/meta/llama-3.2-11b-vision-instruct'

const PROMPT = [
  'You are a content-safety classifier for an adult platform where consensual adult nudity is allowed.',
  'Look at the image and answer ONLY with one JSON object, no prose, exactly of this shape:',
  '{"minors": <0..1>, "non_consent": <0..1>, "violence": <0..1>, "illegal": <0..1>}',
  'Each number is your probability that the image shows: a person who may be under 18 (minors);',
  'sexual activity without consent, hidden-camera or intimate imagery shared without consent (non_consent);',
  'real violence or gore (violence); any other illegal content (illegal).',
].join(' ')

const AiScores = z.object({ minors: z.number().min(0).max(1), non_consent: z.number().min(0).max(1), violence: z.number().min(0).max(1), illegal: z.number().min(0).max(1) }).strict()

/** The first `{...}` object in a model's answer, parsed strictly; null when there is none or it does not fit. */
export function parseAiScores(text: unknown): Record<ClassifierCategory, number> | null {
  if (typeof text !== 'string') return null
  const start = text.indexOf('{')
  const end = text.indexOf('}', start)
  if (start < 0 || end < 0) return null
  try {
    const parsed = AiScores.safeParse(JSON.parse(text.slice(start, end + 1)))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

function dataUrl(image: { bytes: Uint8Array; mime: string }): string {
  // standard base64 for a data: URL (base64url's alphabet differs in two characters)
  const b64 = base64url(image.bytes).replace(/-/g, '+').replace(/_/g, '/')
  return `data:${image.mime};base64,${b64}${'='.repeat((4 - (b64.length % 4)) % 4)}`
}

/** Workers AI adapter. Note: Meta's licence for this model must be accepted once per account (a first call with the prompt "agree"). */
export function workersAiClassifier(ai: Ai): Classifier {
  return {
    async classify(input) {
      try {
        const still = await input.still()
        if (!still) return { verdict: 'review', scores: {}, model: AI_MODEL, note: 'no still to look at' }
        const answer = (await ai.run(AI_MODEL, {
          messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }, { type: 'image_url', image_url: { url: dataUrl(still) } }] }],
          max_tokens: 120,
          temperature: 0,
        })) as { response?: unknown }
        const scores = parseAiScores(answer?.response)
        if (!scores) return { verdict: 'review', scores: {}, model: AI_MODEL, note: 'unparseable answer' }
        return { verdict: verdictOf(scores), scores, model: AI_MODEL }
      } catch (error) {
        log('warn', 'info', 'media_classifier_error', { item_id: input.itemId, error: String(error) })
        return { verdict: 'review', scores: {}, model: AI_MODEL, note: 'classifier unavailable' }
      }
    },
  }
}

/** Workers AI where it is bound (production), the sandbox elsewhere. */
export function classifierFor(env: Env): Classifier {
  const ai = (env as { AI?: Ai }).AI
  return ai ? workersAiClassifier(ai) : sandboxClassifier
}
