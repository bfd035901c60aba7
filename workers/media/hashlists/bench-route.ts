// SCAFFOLD: hash-list lookup benchmark route (helper D)
import { Hono } from 'hono'
export const benchHashList = new Hono<{ Bindings: Env }>()
