// The action's metadata and workflows, checked the way GitHub reads them, and the README's
// input/output tables checked against action.yml.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// @actions/workflow-parser (GitHub's own parser and schemas, as used by the Actions VS Code
// extension) imports its JSON schemas without `with { type: 'json' }`, which Node rejects.
// Add the attribute for that package alone, before it is loaded.
if (typeof registerHooks !== 'function') throw new Error(`test/metadata.test.ts needs Node >= 22.15 (module.registerHooks); this is ${process.version}`)
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/@actions/workflow-parser/') && url.endsWith('.json')) return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } })
    return nextLoad(url, context)
  }
})
const { NoOperationTraceWriter, parseWorkflow } = await import('@actions/workflow-parser')
const { parseAction } = await import('@actions/workflow-parser/actions/index')

type Parser = typeof parseAction

/** Every schema error of one file, as "file (Line: n, Col: m): message". */
function schemaErrors(parser: Parser, file: string): string[] {
  const result = parser({ name: path.relative(ROOT, file), content: readFileSync(file, 'utf8') }, new NoOperationTraceWriter())
  return result.context.errors.getErrors().map(e => e.message)
}

interface ActionInput {
  description?: string
  required?: boolean
  default?: string
}
interface ActionMetadata {
  inputs: Record<string, ActionInput>
  outputs: Record<string, { description?: string }>
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ACTION_YML = path.join(ROOT, 'action.yml')
const WORKFLOWS = path.join(ROOT, '.github/workflows')
const action = parse(readFileSync(ACTION_YML, 'utf8')) as ActionMetadata
const workflowFiles = existsSync(WORKFLOWS) ? readdirSync(WORKFLOWS).filter(f => /\.ya?ml$/.test(f)) : []

describe('schemas', () => {
  it('action.yml is valid action metadata', () => {
    expect(schemaErrors(parseAction, ACTION_YML)).toEqual([])
  })

  it('the schema check does catch errors', () => {
    const errors = (content: string, parser: Parser): string[] =>
      parser({ name: 'x.yml', content }, new NoOperationTraceWriter())
        .context.errors.getErrors()
        .map(e => e.message)
    expect(errors('name: x\ndescription: x\nruns:\n  using: node99\n  main: x.js\n', parseAction).join('\n')).toContain("Unexpected value 'node99'")
    expect(errors('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step:\n      - run: x\n', parseWorkflow).join('\n')).toContain("Unexpected value 'step'")
  })

  it('there are workflows to check', () => {
    expect(workflowFiles.length).toBeGreaterThan(0)
  })

  it.each(workflowFiles)('.github/workflows/%s is a valid workflow', file => {
    expect(schemaErrors(parseWorkflow, path.join(WORKFLOWS, file))).toEqual([])
  })

  it.each(workflowFiles)('.github/workflows/%s gives `uses: ./` only inputs that action.yml has, and every required one', file => {
    const workflow = parse(readFileSync(path.join(WORKFLOWS, file), 'utf8')) as { jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }> }
    for (const [job, { steps = [] }] of Object.entries(workflow.jobs)) {
      for (const step of steps.filter(s => s.uses === './')) {
        const given = Object.keys(step.with ?? {})
        expect(
          given.filter(name => !(name in action.inputs)),
          `unknown inputs in job ${job}`
        ).toEqual([])
        const missing = Object.entries(action.inputs).filter(([name, i]) => i.required && !given.includes(name))
        expect(
          missing.map(([name]) => name),
          `required inputs missing in job ${job}`
        ).toEqual([])
      }
    }
  })
})

/** The cells of the first Markdown table under `heading`, header row first, separator row left out. */
function tableUnder(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n')
  const start = lines.findIndex(l => l.trim() === heading)
  if (start < 0) throw new Error(`README.md has no "${heading}" heading`)
  const rows: string[][] = []
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3} /.test(line)) break
    if (!line.trim().startsWith('|')) {
      if (rows.length > 0) break
      continue
    }
    const cells = line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map(c => c.trim().replace(/\\\|/g, '|'))
    if (cells.every(c => /^:?-+:?$/.test(c))) continue
    rows.push(cells)
  }
  if (rows.length === 0) throw new Error(`README.md has no table under "${heading}"`)
  return rows
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1')

describe('README.md', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')

  it('lists every input of action.yml with its default and required flag, and nothing else', () => {
    const [header, ...rows] = tableUnder(readme, '### Inputs')
    expect(header).toEqual(['Input', 'Default', 'Required', 'Description'])
    const documented = rows.map(([name, def, required, description]) => ({
      name: unquote(name),
      default: def === '—' ? '' : unquote(def),
      required: required.toLowerCase(),
      hasDescription: Boolean(description)
    }))
    const expected = Object.entries(action.inputs).map(([name, i]) => ({
      name,
      default: i.default === undefined || i.default === null ? '' : String(i.default),
      required: i.required ? 'yes' : 'no',
      hasDescription: true
    }))
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name)
    expect(documented.sort(byName)).toEqual(expected.sort(byName))
  })

  it('shows an empty default as — and any other default in backticks', () => {
    for (const [, def] of tableUnder(readme, '### Inputs').slice(1)) expect(def).toMatch(/^(—|`[^`]+`)$/)
  })

  it('lists every output of action.yml, and nothing else', () => {
    const [header, ...rows] = tableUnder(readme, '### Outputs')
    expect(header).toEqual(['Output', 'Description'])
    expect(rows.map(([name]) => unquote(name)).sort()).toEqual(Object.keys(action.outputs).sort())
    for (const [name, description] of rows) expect(description, `description of ${name}`).not.toBe('')
  })
})
