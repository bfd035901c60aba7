/**
 * xmllint against the EPC XSDs in shared/data, for the `*.node.test.ts` files of payouts (Node only:
 * workerd cannot start processes). A missing xmllint fails, never skips (Debian libxml2-utils).
 * Node's modules are loaded by a non-literal dynamic import because the project's tsconfig is
 * workerd-only (no @types/node).
 * @module
 */

interface NodeApis {
  spawnSync(command: string, args: string[], options: { encoding: 'utf8' }): { status: number | null; stdout: string; stderr: string; error?: Error }
  mkdtempSync(prefix: string): string
  writeFileSync(file: string, data: string): void
  rmSync(path: string, options: { recursive: true; force: true }): void
  existsSync(path: string): boolean
  tmpdir(): string
  join(...parts: string[]): string
  resolve(...parts: string[]): string
  dirname(path: string): string
  fileURLToPath(url: string): string
}

async function nodeApis(): Promise<NodeApis> {
  const load = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name)
  const [childProcess, fs, os, path, url] = await Promise.all(['node:child_process', 'node:fs', 'node:os', 'node:path', 'node:url'].map(load))
  const pick = (module: Record<string, unknown> | undefined, names: string[]) => Object.fromEntries(names.map((n) => [n, module?.[n]]))
  return {
    ...pick(childProcess, ['spawnSync']),
    ...pick(fs, ['mkdtempSync', 'writeFileSync', 'rmSync', 'existsSync']),
    ...pick(os, ['tmpdir']),
    ...pick(path, ['join', 'resolve', 'dirname']),
    ...pick(url, ['fileURLToPath']),
  } as unknown as NodeApis
}

export interface Xmllint {
  xsd: string
  xsdExists(): boolean
  check(name: string, xml: string): { status: number | null; output: string }
  close(): void
}

/** `xsdName` is a file in shared/data/payments/xsd (the checkout's sibling `../shared`). */
export async function xmllintFor(xsdName: string): Promise<Xmllint> {
  if (typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers') {
    throw new Error('xsd tests run under Node: npx vitest run --config vitest.node.config.ts')
  }
  const node = await nodeApis()
  const here = node.dirname(node.fileURLToPath((import.meta as unknown as { url: string }).url))
  // <checkout>/workers/payouts/files -> <checkout>/../shared
  const xsd = node.resolve(here, '../../../../shared/data/payments/xsd', xsdName)
  const dir = node.mkdtempSync(node.join(node.tmpdir(), 'fanz-payouts-xsd-'))
  return {
    xsd,
    xsdExists: () => node.existsSync(xsd),
    check(name, xml) {
      const file = node.join(dir, `${name}.xml`)
      node.writeFileSync(file, xml)
      const run = node.spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' })
      if (run.error) throw new Error(`xmllint could not be started (${run.error.message}): install Debian's libxml2-utils`)
      return { status: run.status, output: `${run.stdout}${run.stderr}` }
    },
    close: () => node.rmSync(dir, { recursive: true, force: true }),
  }
}
