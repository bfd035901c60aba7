/**
 * The ffmpeg side of the packager: one ffmpeg run decodes the original once and encodes two HLS
 * renditions with identical settings (fMP4, a keyframe forced every `segmentSeconds`, so both cut at
 * the same instants: identical playlists and init segments, only the segment bytes differ) plus 1 fps
 * JPEG keyframes for fingerprinting.
 *
 * The B mark: luma +2 on the left half of the picture and -2 on the right half (of 255; below the
 * ~1% a viewer can notice on moving video), made with the cheap `crop`/`lutyuv`/`overlay` filters.
 * Chosen because it survives what a leaker does to a file: re-encoding and downscaling average
 * pixels but keep a half-frame offset; a global brightness or contrast change shifts both halves
 * alike and leaves their difference, which is what the tracer measures (scripts/packager/trace.mjs).
 * Not robust to cropping one half away or mirroring (a mirrored B reads as A): stated limits.
 *
 * Images above the Worker's decode limit get one display rendition (displayArgs): the largest size
 * of at most DISPLAY_MAX_PIXELS with the original's aspect ratio, Lanczos, JPEG. What ffmpeg does
 * that matters here (Debian bookworm's 5.1, measured in image.node.test.ts):
 * - EXIF orientation IS honoured: the mjpeg decoder exports it as a display matrix and ffmpeg's
 *   autorotate (on by default) turns the picture upright before our filters, so orientations 5-8
 *   come out with width and height swapped (ffprobe's stream width/height are still the stored,
 *   unrotated ones). The scale expression uses the upright size; the API accepts either orientation.
 *   The rendition is a fresh JFIF file: no EXIF is copied, so nothing turns it a second time.
 * - Its mjpeg encoder takes a quantiser scale, not a libjpeg quality: `-q:v 3` writes quantisation
 *   tables closest to libjpeg quality 91 (2 -> 94, 4 -> 88), the "about 90" asked for.
 * - Transparency (PNG) is dropped by a JPEG encode, leaving whatever colour is stored under it; it is
 *   flattened onto white first, as the Worker does for small images (watermark/mark-image.ts).
 * @module
 */
import { spawn } from 'node:child_process'

export const MARK_LUMA_DELTA = 2

/**
 * ffmpeg arguments for A and B HLS renditions (`outDir/a`, `outDir/b`, each with `playlist.m3u8`,
 * `init.mp4`, `%05d.m4s`) and `outDir/frames/%05d.jpg` at 1 fps (frame i at i seconds).
 */
export function abArgs(input, outDir, { segmentSeconds = 2, crf = 20, preset = 'veryfast', frames = true, audio = true } = {}) {
  const d = MARK_LUMA_DELTA
  const graph = [
    `[0:v]split=${frames ? 3 : 2}[va][vb]${frames ? '[vf]' : ''}`,
    `[vb]split[bl][br]`,
    `[bl]crop=iw/2:ih:0:0,lutyuv=y='clip(val+${d},0,255)'[left]`,
    `[br]lutyuv=y='clip(val-${d},0,255)'[right]`,
    `[right][left]overlay=0:0[vbo]`,
    ...(frames ? [`[vf]fps=1,format=yuvj420p[fr]`] : []),
  ].join(';')
  const rendition = (label, dir) => [
    '-map', label,
    ...(audio ? ['-map', '0:a?', '-c:a', 'aac', '-b:a', '96k'] : []),
    '-c:v', 'libx264', '-preset', preset, '-crf', String(crf), '-pix_fmt', 'yuv420p',
    '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`,
    '-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4',
    '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', `${outDir}/${dir}/%05d.m4s`, `${outDir}/${dir}/playlist.m3u8`,
  ]
  return [
    '-hide_banner', '-v', 'error', '-y', '-i', input,
    '-filter_complex', graph,
    ...rendition('[va]', 'a'),
    ...rendition('[vbo]', 'b'),
    ...(frames ? ['-map', '[fr]', '-q:v', '3', '-start_number', '0', `${outDir}/frames/%05d.jpg`] : []),
  ]
}

/** The API takes at most 8,000,000 pixels (MAX_FINGERPRINT_PIXELS); 1.25% under it leaves room for any rounding. */
export const DISPLAY_MAX_PIXELS = 7_900_000
/** ffmpeg mjpeg quantiser scale: tables closest to libjpeg quality 91 (see the module notes). */
export const DISPLAY_QSCALE = 3

/** Pixel formats that carry transparency (ffmpeg names): they are flattened onto white. */
export const hasAlpha = (pixFmt) => pixFmt === 'pal8' || /^(rgba|bgra|argb|abgr|ya|yuva|gbrap)/.test(pixFmt ?? '')

/**
 * ffmpeg arguments for an image's display rendition: scaled (never up) to the largest size of at most
 * `maxPixels` keeping the aspect ratio (both sides truncated, so width x height <= maxPixels; JPEG needs
 * no even sizes), Lanczos with exact rounding and full chroma, flattened onto white when `flatten`
 * (white - (white - colour) x alpha, by negate / premultiply / negate), JPEG 4:2:0 full range.
 * The sizes are expressions of the frame the filter receives, which is after EXIF autorotation.
 */
export function displayArgs(input, output, { maxPixels = DISPLAY_MAX_PIXELS, qscale = DISPLAY_QSCALE, flatten = false } = {}) {
  const fit = `min(1,sqrt(${maxPixels}/(iw*ih)))`
  const filters = [
    `scale=w='max(1,trunc(iw*${fit}))':h='max(1,trunc(ih*${fit}))':flags=lanczos+accurate_rnd+full_chroma_int`,
    ...(flatten ? ['format=gbrap', 'negate', 'premultiply=inplace=1', 'negate'] : []),
    'format=yuvj420p',
  ]
  return ['-hide_banner', '-v', 'error', '-y', '-i', input, '-vf', filters.join(','), '-frames:v', '1', '-update', '1', '-map_metadata', '-1', '-q:v', String(qscale), '-f', 'image2', '-c:v', 'mjpeg', output]
}

/** Width, height and pixel format of an image's first (only) picture, as stored (before EXIF rotation). */
export async function probeImage(file) {
  const out = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,pix_fmt', '-of', 'json', file])
  const stream = JSON.parse(out.toString()).streams?.[0]
  if (!stream?.width || !stream?.height) throw new Error(`${file} is not a picture ffmpeg can read`)
  return { width: stream.width, height: stream.height, pixFmt: stream.pix_fmt }
}

/**
 * Makes `output`, the display rendition of the image `input`, and checks what was written: a JPEG of
 * at most `maxPixels`. Returns its size as decoded (upright).
 */
export async function makeDisplay(input, output, { maxPixels = DISPLAY_MAX_PIXELS, qscale = DISPLAY_QSCALE } = {}) {
  const source = await probeImage(input)
  await run('ffmpeg', displayArgs(input, output, { maxPixels, qscale, flatten: hasAlpha(source.pixFmt) }))
  const made = await probeImage(output)
  if (made.width * made.height > maxPixels) throw new Error(`the rendition is ${made.width}x${made.height}, more than ${maxPixels} pixels`)
  return { source, width: made.width, height: made.height }
}

/** Runs a command; resolves with stdout (Buffer), rejects with stderr on a non-zero exit. */
export function run(command, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    const out = []
    const err = []
    child.stdout.on('data', (b) => out.push(b))
    child.stderr.on('data', (b) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command} exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`))))
    if (input) child.stdin.end(input)
  })
}

/** Width, height and duration (ms) of a video file, from ffprobe. */
export async function probe(file) {
  const out = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', file])
  const parsed = JSON.parse(out.toString())
  const stream = parsed.streams?.[0]
  if (!stream) throw new Error(`${file} has no video stream`)
  return { width: stream.width, height: stream.height, durationMs: Math.round(Number(parsed.format.duration) * 1000) }
}
