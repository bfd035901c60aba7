#!/usr/bin/env node
// `npm run token -- --role admin [--role finance] [--subject usr_x] [--age-verified] [--port 8787]`
// Mints a local access token from the running dev server (npm start). Dev only: the endpoint does
// not exist in staging or production, and needs DEV_TOKEN_SECRET from .dev.vars.
import { parseArgs } from 'node:util'
import { ensureDevVars, request } from './dev-server.mjs'

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true, default: ['admin'] },
    subject: { type: 'string' },
    'age-verified': { type: 'boolean', default: false },
    ttl: { type: 'string' },
    port: { type: 'string', default: process.env.PORT ?? '8787' },
  },
})
const secret = ensureDevVars().DEV_TOKEN_SECRET
const body = JSON.stringify({
  roles: values.role,
  ...(values.subject ? { subject: values.subject } : {}),
  age_verified: values['age-verified'],
  ...(values.ttl ? { ttl_seconds: Number(values.ttl) } : {}),
})
try {
  const res = await request(Number(values.port), 'api.localhost', '/api/dev/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-dev-token-secret': secret, 'content-length': Buffer.byteLength(body) },
    body,
  })
  if (res.status !== 201) {
    console.error(`token refused (${res.status}): ${res.body}`)
    process.exit(1)
  }
  console.log(JSON.parse(res.body).access_token)
} catch (err) {
  console.error(`no dev server on port ${values.port}: start it with npm start (${err.message})`)
  process.exit(1)
}
