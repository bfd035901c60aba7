/**
 * `/api/media/uploads/*`: tus 1.0.0 resumable uploads (tus.ts) and direct multipart uploads
 * (multipart.ts), both on R2 multipart uploads with one part size per upload (store.ts) and one
 * MediaUpload object per upload (durable-objects/media-upload.ts).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../edge/context'
import { registerMultipart } from './multipart'
import { registerTus } from './tus'

export { expireUploadsJob } from './expire'

export function registerUploads(app: OpenAPIHono<AppEnv>): void {
  registerTus(app)
  registerMultipart(app)
}
