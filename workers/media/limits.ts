/** Request ceilings shared by the media routes and the API's body limit (Cloudflare refuses bodies above 100 MB). */
export const MEDIA_CHUNK_MAX_BYTES = 96 * 1024 * 1024
