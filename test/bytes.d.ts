// `<file>?bytes` imports: binary test fixtures inlined as bytes (test/vite/bytes-plugin.ts)
declare module '*?bytes' {
  const bytes: Uint8Array<ArrayBuffer>
  export default bytes
}
