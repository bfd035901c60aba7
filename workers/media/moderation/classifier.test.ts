import { describe, expect, it } from 'vitest'
import { AI_MODEL, parseAiScores, sandboxClassifier, verdictOf, workersAiClassifier, type ClassifierInput } from './classifier'
import { slaState } from './queue'

const input = (over: Partial<ClassifierInput> = {}): ClassifierInput => ({
  itemId: 'med_01JFANZ0000000000000000001',
  kind: 'image',
  sha256: 'ff00a0' + '1'.repeat(58),
  title: 'A title',
  description: '',
  tags: [],
  still: async () => ({ bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), mime: 'image/jpeg' }),
  ...over,
})

/** Workers AI as the binding answers (the platform's object, not our code): canned answers or failures. */
function ai(answer: unknown | Error): Ai & { calls: unknown[] } {
  const calls: unknown[] = []
  return {
    calls,
    run: async (model: string, body: unknown) => {
      calls.push({ model, body })
      if (answer instanceof Error) throw answer
      return answer
    },
  } as unknown as Ai & { calls: unknown[] }
}

describe('verdict thresholds', () => {
  it('block at 0.8 in any category, review at 0.4, allow below', () => {
    expect(verdictOf({ minors: 0.8, violence: 0 })).toBe('block')
    expect(verdictOf({ minors: 0.79, violence: 0.4 })).toBe('review')
    expect(verdictOf({ minors: 0.39, violence: 0.1 })).toBe('allow')
    expect(verdictOf({})).toBe('allow')
  })
})

describe('sandbox classifier', () => {
  it('derives low scores from the content hash: the same content, the same answer', async () => {
    const a = await sandboxClassifier.classify(input())
    expect(a).toEqual(await sandboxClassifier.classify(input()))
    expect(a.verdict).toBe('allow')
    // ff -> 0.199, 00 -> 0, a0 -> 0.125, 11 -> 0.013
    expect(a.scores).toEqual({ minors: 0.199, non_consent: 0, violence: 0.125, illegal: 0.013 })
  })

  it('markers in the title or tags choose the verdict', async () => {
    expect((await sandboxClassifier.classify(input({ title: 'x sandbox:block y' }))).verdict).toBe('block')
    expect((await sandboxClassifier.classify(input({ tags: ['Sandbox:Review'] }))).verdict).toBe('review')
    expect((await sandboxClassifier.classify(input({ tags: ['sandbox:allow'] }))).scores).toEqual({ minors: 0, non_consent: 0, violence: 0, illegal: 0 })
  })
})

describe('Workers AI adapter', () => {
  it('parses the strict JSON answer, even wrapped in prose', async () => {
    const binding = ai({ response: 'Here you go: {"minors": 0.02, "non_consent": 0.9, "violence": 0, "illegal": 0.1} done' })
    const result = await workersAiClassifier(binding).classify(input())
    expect(result).toEqual({ verdict: 'block', scores: { minors: 0.02, non_consent: 0.9, violence: 0, illegal: 0.1 }, model: AI_MODEL })
    const body = (binding.calls[0] as { model: string; body: { messages: Array<{ content: Array<{ type: string; image_url?: { url: string } }> }> } })
    expect(body.model).toBe('@cf/meta/llama-3.2-11b-vision-instruct')
    expect(body.body.messages[0]!.content[1]!.image_url!.url).toBe('data:image/jpeg;base64,/9j/4A==')
  })

  it('anything unparseable, out of range or failing is review, never allow', async () => {
    for (const answer of [{ response: 'I cannot help with that.' }, { response: '{"minors": 2, "non_consent": 0, "violence": 0, "illegal": 0}' }, { response: '{"minors": 0}' }, { response: '{"minors": 0, "non_consent": 0, "violence": 0, "illegal": 0, "extra": 1}' }, {}, null]) {
      const r = await workersAiClassifier(ai(answer)).classify(input())
      expect(r, JSON.stringify(answer)).toMatchObject({ verdict: 'review', scores: {}, note: 'unparseable answer' })
    }
    expect(await workersAiClassifier(ai(new Error('capacity'))).classify(input())).toMatchObject({ verdict: 'review', note: 'classifier unavailable' })
    expect(await workersAiClassifier(ai({ response: '{}' })).classify(input({ still: async () => null }))).toMatchObject({ verdict: 'review', note: 'no still to look at' })
    expect(parseAiScores(42)).toBeNull()
  })
})

describe('SLA state', () => {
  it('on time, at risk under a quarter of the window, breached past due', () => {
    expect(slaState(0, 1000, 700)).toBe('on_time')
    expect(slaState(0, 1000, 751)).toBe('at_risk')
    expect(slaState(0, 1000, 1000)).toBe('at_risk')
    expect(slaState(0, 1000, 1001)).toBe('breached')
  })
})
