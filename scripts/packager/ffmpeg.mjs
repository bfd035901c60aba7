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
