// SCAFFOLD: PDQ benchmark route (helper A)
import { Hono } from 'hono'
export const benchPdq = new Hono<{ Bindings: Env }>()
