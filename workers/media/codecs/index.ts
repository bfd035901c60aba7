// Image codecs for MediaHub. Workers refuse to compile WebAssembly from bytes at run time, so each
// codec's .wasm is imported statically (wrangler hands it over as a compiled WebAssembly.Module)
// and passed to the library's init() once per isolate.
import decodeJpegWasm, { init as initJpegDecode } from '@jsquash/jpeg/decode'
import encodeJpegWasm, { init as initJpegEncode } from '@jsquash/jpeg/encode'
import decodePngWasm, { init as initPngDecode } from '@jsquash/png/decode'
import encodePngWasm, { init as initPngEncode } from '@jsquash/png/encode'
import resizeWasm, { initResize } from '@jsquash/resize'
import JPEG_DEC from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'
import JPEG_ENC from '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'
// @ts-expect-error the package's .wasm.d.ts types the instance's exports; wrangler hands over the compiled module as the default export
import PNG from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm'
// @ts-expect-error as above
import RESIZE from '@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm'

/** RGBA pixels, row-major, 4 bytes per pixel (what every codec here reads and writes). */
export interface Pixels {
  width: number
  height: number
  data: Uint8ClampedArray
}

export type ImageMime = 'image/jpeg' | 'image/png'

let ready: Promise<void> | undefined
function initCodecs(): Promise<void> {
  ready ??= Promise.all([initJpegDecode(JPEG_DEC), initJpegEncode(JPEG_ENC), initPngDecode(PNG), initPngEncode(PNG), initResize(RESIZE)]).then(() => undefined)
  return ready
}

export async function decodeImage(bytes: ArrayBuffer, mime: ImageMime): Promise<Pixels> {
  await initCodecs()
  const image = mime === 'image/jpeg' ? await decodeJpegWasm(bytes) : await decodePngWasm(bytes)
  return { width: image.width, height: image.height, data: image.data }
}

export async function encodeJpeg(pixels: Pixels, quality: number): Promise<Uint8Array> {
  await initCodecs()
  return new Uint8Array(await encodeJpegWasm(toImageData(pixels), { quality }))
}

export async function encodePng(pixels: Pixels): Promise<Uint8Array> {
  await initCodecs()
  return new Uint8Array(await encodePngWasm(toImageData(pixels)))
}

export async function resizeImage(pixels: Pixels, width: number, height: number, method: 'triangle' | 'lanczos3' | 'catrom' | 'mitchell' = 'triangle'): Promise<Pixels> {
  await initCodecs()
  const out = await resizeWasm(toImageData(pixels), { width, height, method, fitMethod: 'stretch', premultiply: false, linearRGB: false })
  return { width: out.width, height: out.height, data: out.data }
}

type ImageDataLike = Parameters<typeof encodeJpegWasm>[0]
// The libraries are typed against the DOM's ImageData; workerd has none, and they only read these three fields.
function toImageData(pixels: Pixels): ImageDataLike {
  return { width: pixels.width, height: pixels.height, data: pixels.data, colorSpace: 'srgb' } as ImageDataLike
}
