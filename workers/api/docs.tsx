/**
 * `/api/docs`: the OpenAPI 3.1 document as a server-rendered, accessible HTML page (operations
 * grouped by tag; parameters, request bodies, responses, schemas). No script, nothing external: the
 * CSP allows only the nonce'd style block. Served on every host, so it cannot rely on /static.
 * @module
 */
import type { Child, FC } from 'hono/jsx'
import { html } from 'hono/html'
import { PLATFORM_THEME, themeCss } from '../site/theme'

type Json = Record<string, unknown>

interface Operation {
  method: string
  path: string
  op: Json
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'] as const

const obj = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {})
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
const opId = (o: Operation) => `op-${o.method}-${slug(o.path)}`
const schemaId = (name: string) => `schema-${slug(name)}`

function groupByTag(doc: Json): Map<string, Operation[]> {
  const groups = new Map<string, Operation[]>()
  for (const [path, item] of Object.entries(obj(doc.paths))) {
    for (const method of METHODS) {
      const op = obj(obj(item)[method])
      if (!Object.keys(op).length) continue
      const tags = list(op.tags).filter((t): t is string => typeof t === 'string')
      for (const tag of tags.length ? tags : ['other']) {
        if (!groups.has(tag)) groups.set(tag, [])
        groups.get(tag)!.push({ method, path, op })
      }
    }
  }
  return groups
}

/** `string`, `integer | null`, `array of Brand`: a one-line type for a schema. */
function typeLabel(schema: Json): Child {
  const ref = str(schema.$ref)
  if (ref) {
    const name = ref.split('/').pop() ?? ref
    return <a href={`#${schemaId(name)}`}>{name}</a>
  }
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (str(schema.type) ?? '')
  if (type === 'array') return <>array of {typeLabel(obj(schema.items))}</>
  const format = str(schema.format)
  if (type) return format ? `${type} (${format})` : type
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(schema[key])) return key === 'allOf' ? 'all of' : 'one of'
  }
  return 'any'
}

function constraints(schema: Json): string[] {
  const notes: string[] = []
  if (Array.isArray(schema.enum)) notes.push(`one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`)
  if ('const' in schema) notes.push(`always ${JSON.stringify(schema.const)}`)
  for (const [key, label] of [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minimum', 'min'],
    ['maximum', 'max'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
    ['pattern', 'pattern'],
  ] as const) {
    if (schema[key] !== undefined) notes.push(`${label} ${String(schema[key])}`)
  }
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`)
  return notes
}

/** A schema as a nested list of its fields; depth-limited (references link to the Schemas section). */
const SchemaView: FC<{ schema: Json; depth?: number }> = ({ schema, depth = 0 }) => {
  const variants = list(schema.oneOf ?? schema.anyOf ?? schema.allOf).map(obj)
  const props = Object.entries(obj(schema.properties))
  const required = new Set(list(schema.required).filter((r): r is string => typeof r === 'string'))
  const items = obj(schema.items)
  if (depth > 4) return null
  if (variants.length) {
    return (
      <ul class="schema">
        {variants.map((v) => (
          <li>
            {typeLabel(v)}
            <SchemaView schema={v} depth={depth + 1} />
          </li>
        ))}
      </ul>
    )
  }
  if (props.length) {
    return (
      <ul class="schema">
        {props.map(([name, raw]) => {
          const prop = obj(raw)
          const notes = constraints(prop)
          return (
            <li>
              <code>{name}</code> <span class="type">{typeLabel(prop)}</span>
              {required.has(name) ? <span class="req"> required</span> : null}
              {str(prop.description) ? <span>: {str(prop.description)}</span> : null}
              {notes.length ? <span class="notes"> ({notes.join('; ')})</span> : null}
              {prop.$ref ? null : <SchemaView schema={prop} depth={depth + 1} />}
            </li>
          )
        })}
      </ul>
    )
  }
  if (str(schema.type) === 'array' && !items.$ref && Object.keys(obj(items.properties)).length) return <SchemaView schema={items} depth={depth + 1} />
  return null
}

const Content: FC<{ content: unknown }> = ({ content }) => (
  <>
    {Object.entries(obj(content)).map(([mediaType, media]) => {
      const schema = obj(obj(media).schema)
      return (
        <div class="media">
          <p>
            <code>{mediaType}</code>: {typeLabel(schema)}
          </p>
          {schema.$ref ? null : <SchemaView schema={schema} />}
        </div>
      )
    })}
  </>
)

/** What a summary line promises: `Parameters, request body, responses`. */
function detailLabel(hasParams: boolean, hasBody: boolean): string {
  const parts = [hasParams ? 'parameters' : '', hasBody ? 'request body' : '', 'responses'].filter(Boolean).join(', ')
  return parts.charAt(0).toUpperCase() + parts.slice(1)
}

const ParameterTable: FC<{ params: Json[] }> = ({ params }) => (
  <table>
    <caption>Parameters</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">In</th>
        <th scope="col">Type</th>
        <th scope="col">Required</th>
        <th scope="col">Description</th>
      </tr>
    </thead>
    <tbody>
      {params.map((p) => (
        <tr>
          <th scope="row">
            <code>{str(p.name)}</code>
          </th>
          <td>{str(p.in)}</td>
          <td>{typeLabel(obj(p.schema))}</td>
          <td>{p.required ? 'yes' : 'no'}</td>
          <td>{[str(p.description), ...constraints(obj(p.schema))].filter(Boolean).join('; ')}</td>
        </tr>
      ))}
    </tbody>
  </table>
)

const OperationView: FC<{ o: Operation }> = ({ o }) => {
  const params = list(o.op.parameters).map(obj)
  const body = obj(o.op.requestBody)
  const hasBody = Object.keys(body).length > 0
  const responses = Object.entries(obj(o.op.responses))
  return (
    <article class="op" id={opId(o)} aria-labelledby={`${opId(o)}-h`}>
      <h3 id={`${opId(o)}-h`}>
        <span class="method">{o.method.toUpperCase()}</span> <code>{o.path}</code>
      </h3>
      {str(o.op.summary) ? <p class="summary">{str(o.op.summary)}</p> : null}
      {str(o.op.description) ? <p>{str(o.op.description)}</p> : null}
      {list(o.op.security).length ? <p class="meta">Requires a bearer access token.</p> : null}
      {/* collapsed, so fifty operations stay scannable; a native <details> opens with Enter or Space */}
      <details>
        <summary>{detailLabel(params.length > 0, hasBody)}</summary>
        {params.length ? <ParameterTable params={params} /> : null}
        {hasBody ? (
          <>
            <h4>Request body{body.required ? ' (required)' : ''}</h4>
            <Content content={body.content} />
          </>
        ) : null}
        <h4>Responses</h4>
        <dl class="responses">
          {responses.map(([status, raw]) => (
            <>
              <dt>
                <code>{status}</code>
              </dt>
              <dd>
                {str(obj(raw).description) ?? ''}
                <Content content={obj(raw).content} />
              </dd>
            </>
          ))}
        </dl>
      </details>
    </article>
  )
}

const CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:1rem/1.6 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}
.wrap{width:min(68rem,100% - 2.5rem);margin-inline:auto}
header,footer{border-bottom:1px solid var(--line);padding:1rem 0}
footer{border-top:1px solid var(--line);border-bottom:0;color:var(--muted)}
main{padding:2rem 0 3rem}
main:focus{outline:none}
a{color:var(--primary)}
:focus-visible{outline:3px solid var(--text);outline-offset:3px;border-radius:4px}
.skip{position:absolute;left:1rem;top:-10rem;padding:.6rem 1rem;background:var(--primary);color:var(--on-primary);font-weight:600}
.skip:focus{top:0}
h1{font-size:2.25rem;line-height:1.2;margin:0 0 .5rem}
h2{font-size:1.5rem;margin:2.5rem 0 1rem;text-transform:capitalize}
h3{font-size:1.1rem;margin:0 0 .5rem}
h4{font-size:1rem;margin:1rem 0 .35rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.op{border:1px solid var(--line);border-radius:12px;padding:1.25rem;margin:0 0 1rem;background:var(--surface)}
.method{display:inline-block;min-width:4.5rem;text-align:center;border:2px solid var(--text);border-radius:6px;font-size:.85rem;padding:0 .4rem;margin-right:.4rem}
.summary{font-weight:600}
.meta,.notes{color:var(--muted)}
.req{font-weight:700}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:700}
th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid var(--line)}
.responses{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
.responses dd{margin:0}
.schema{margin:.25rem 0;padding-left:1.25rem}
.op details{margin-top:.5rem}
.op summary{cursor:pointer;font-weight:600;color:var(--primary);width:max-content;max-width:100%}
.bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 2rem}
.home{color:var(--text);font-weight:800;font-size:1.2rem;text-decoration:none}
.toc ul{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;list-style:none;margin:0;padding:0;text-transform:capitalize}
`

const DocsPage: FC<{ doc: Json; nonce: string }> = ({ doc, nonce }) => {
  const info = obj(doc.info)
  const title = str(info.title) ?? 'API'
  const groups = [...groupByTag(doc)].sort(([a], [b]) => a.localeCompare(b))
  const schemas = Object.entries(obj(obj(doc.components).schemas)).sort(([a], [b]) => a.localeCompare(b))
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} reference`}</title>
        <link rel="icon" href="data:," />
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: themeCss(PLATFORM_THEME) + CSS }} />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to main content
        </a>
        <header>
          <div class="wrap bar">
            <a class="home" href="/api/docs">
              {title}
            </a>
            <nav class="toc" aria-label="API sections">
              <ul>
                {groups.map(([tag]) => (
                  <li>
                    <a href={`#tag-${slug(tag)}`}>{tag}</a>
                  </li>
                ))}
                {schemas.length ? (
                  <li>
                    <a href="#schemas">Schemas</a>
                  </li>
                ) : null}
                <li>
                  <a href="/api/openapi.json">OpenAPI JSON</a>
                </li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <div class="wrap">
            <h1>{title}</h1>
            <p class="meta">
              Version {str(info.version) ?? 'unversioned'} · OpenAPI {str(doc.openapi) ?? '3.1'} · machine-readable document:{' '}
              <a href="/api/openapi.json">/api/openapi.json</a>
            </p>
            {str(info.description) ? <p>{str(info.description)}</p> : null}
            {groups.map(([tag, ops]) => (
              <section id={`tag-${slug(tag)}`} aria-labelledby={`tag-${slug(tag)}-h`}>
                <h2 id={`tag-${slug(tag)}-h`}>{tag}</h2>
                {ops.map((o) => (
                  <OperationView o={o} />
                ))}
              </section>
            ))}
            {schemas.length ? (
              <section id="schemas" aria-labelledby="schemas-h">
                <h2 id="schemas-h">Schemas</h2>
                {schemas.map(([name, schema]) => (
                  <article class="op" id={schemaId(name)} aria-labelledby={`${schemaId(name)}-h`}>
                    <h3 id={`${schemaId(name)}-h`}>{name}</h3>
                    {str(obj(schema).description) ? <p>{str(obj(schema).description)}</p> : null}
                    <p class="meta">{typeLabel(obj(schema))}</p>
                    <SchemaView schema={obj(schema)} />
                  </article>
                ))}
              </section>
            ) : null}
          </div>
        </main>
        <footer>
          <div class="wrap">Generated from the zod schemas of each subsystem. Errors are RFC 9457 problem+json.</div>
        </footer>
      </body>
    </html>
  )
}

export function renderDocs(doc: unknown, nonce: string): string | Promise<string> {
  return html`<!doctype html>${<DocsPage doc={obj(doc)} nonce={nonce} />}`
}
