// wrangler (and the vitest pool) hand a statically imported .wasm file over as a compiled module.
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
