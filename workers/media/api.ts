/**
 * `/api/media/*`: MediaHub. Creators upload (tus or multipart), describe and publish their media;
 * ingest fingerprints every file and checks it against the hash lists; moderators review before
 * publication; compliance manages hash lists, cases and leak tracing; viewers get short-lived,
 * viewer-bound delivery URLs. Every route declares its permission; every change is audited.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { registerDelivery } from './delivery/api'
import { registerHashLists } from './hashlists/api'
import { registerHls } from './ab/api'
import { registerItems } from './items/api'
import { registerLeaks } from './leaks/api'
import { registerModeration } from './moderation/api'
import { registerPackager } from './packager/api'
import { registerUploads } from './uploads/api'
import { registerWatermarkSettings } from './watermark/api'

export const mediaApi = createSurfaceApp()

registerUploads(mediaApi)
registerItems(mediaApi)
registerModeration(mediaApi)
registerHashLists(mediaApi)
registerWatermarkSettings(mediaApi)
registerDelivery(mediaApi)
registerHls(mediaApi)
registerPackager(mediaApi)
registerLeaks(mediaApi)
