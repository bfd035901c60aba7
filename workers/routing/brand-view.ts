import { z } from 'zod'

/** Brand colours; text/background contrast is checked when a theme is written (WCAG 2.1 AA). */
export const Theme = z.object({
  primary: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  accent: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  background: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  text: z.string().regex(/^#[0-9a-fA-F]{6}$/),
})
export type Theme = z.infer<typeof Theme>

export const Custodian = z.object({
  name: z.string().min(1),
  title: z.string().min(1),
  address: z.string().min(1),
  email: z.email(),
})
export type Custodian = z.infer<typeof Custodian>

export const DmcaAgent = z.object({
  name: z.string().min(1),
  address: z.string().min(1),
  email: z.email(),
  phone: z.string().min(1),
  registration: z.string().min(1),
})
export type DmcaAgent = z.infer<typeof DmcaAgent>

/** A brand as the edge and the pages see it. */
export interface BrandView {
  id: string
  slug: string
  name: string
  primaryDomain: string
  status: 'active' | 'suspended'
  tagline: string
  theme: Theme
  custodian: Custodian
  dmcaAgent: DmcaAgent
}
