// Every request the action sends, and every answer the simulator gives, checked against
// Clari's published OpenAPI description with a third-party validator (openapi-backend).
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { OpenAPIBackend } from 'openapi-backend'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { Simulator } from './simulator/server.ts'
import { closeSimulators, simInputs, simulator } from './support/e2e.ts'
import { ROOT, runAction } from './support/run-action.ts'

// Clari's published description, as given to this project (a copy, so CI on GitHub has it too).
const SPEC = path.join(ROOT, 'test/support/clari-revenue-api-openapi.yml')
let api: OpenAPIBackend

/** Clari's file puts `name`/`description` beside `$ref` in two parameters; OpenAPI 3.0 ignores such siblings, the validator refuses them. */
function withoutRefSiblings(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRefSiblings)
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>
    if (typeof o.$ref === 'string') return { $ref: o.$ref }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, withoutRefSiblings(v)]))
  }
  return node
}

/** Clari's file gives the create call and the job list the same operationId; the validator keys schemas by it. */
function uniqueOperationIds(spec: { paths: Record<string, Record<string, { operationId?: string }>> }): void {
  const seen = new Set<string>()
  for (const [route, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op.operationId) continue
      if (seen.has(op.operationId)) op.operationId = `${op.operationId}_${method}_${route}`
      seen.add(op.operationId)
    }
  }
}

beforeAll(async () => {
  const definition = withoutRefSiblings(parse(readFileSync(SPEC, 'utf8'))) as never
  uniqueOperationIds(definition)
  api = new OpenAPIBackend({ definition, strict: true, ajvOpts: { logger: false } })
  await api.init()
})
afterAll(closeSimulators)

function requestErrors(sim: Simulator): string[] {
  const problems: string[] = []
  for (const r of sim.requests) {
    const req = { method: r.method.toLowerCase(), path: r.path, headers: r.headers as Record<string, string>, query: r.query, body: r.body }
    const op = api.matchOperation(req)
    if (!op) {
      problems.push(`${r.method} ${r.path}: no such operation`)
      continue
    }
    const result = api.validateRequest(req, op)
    if (!result.valid) problems.push(`${r.method} ${r.path}: ${JSON.stringify(result.errors)}`)
  }
  return problems
}

describe('requests the action makes', () => {
  it('conform, with every body field the inputs can set', async () => {
    const sim = await simulator({ faults: [{ kind: 'lost-create', mode: '500', period: '2025_Q1' }] })
    const run = await runAction(
      simInputs(sim, {
        periods: '2025_Q1,current',
        'export-format': 'csv',
        'types-to-export': 'forecast,quota,adjustment',
        currency: 'usd',
        'scope-id': '1905::MGR',
        'include-historical': 'true',
        schedule: 'max'
      })
    )
    expect(run.code, run.stdout).toBe(0)
    const routes = new Set(sim.requests.map(r => r.route))
    expect([...routes].sort()).toEqual(['create', 'limits', 'list', 'results', 'status'])
    expect(sim.jobs[0].body).toEqual({
      timePeriod: '2025_Q1',
      typesToExport: ['forecast', 'quota', 'adjustment'],
      exportFormat: 'CSV',
      schedule: 'MAX',
      includeHistorical: true,
      currency: 'USD',
      scopeId: '1905::MGR'
    })
    expect(requestErrors(sim)).toEqual([])
  })

  it('conform when cancelling a job', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 60 } })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'max-attempts': '2', 'max-poll-interval': '0.05' }))
    expect(run.code).toBe(1)
    expect(sim.requests.some(r => r.route === 'cancel')).toBe(true)
    expect(requestErrors(sim)).toEqual([])
  })

  it('the validator catches a request that does not conform', async () => {
    const sim = await simulator()
    await fetch(`${sim.url}/export/forecast/f`, {
      method: 'POST',
      headers: { apikey: sim.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ exportFormat: 'XML' })
    })
    expect(requestErrors(sim)).toHaveLength(1)
  })
})

describe('answers the simulator gives', () => {
  async function call(sim: Simulator, method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${sim.url}${route}`, {
      method,
      headers: { apikey: sim.apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, json: text ? JSON.parse(text) : undefined }
  }
  function expectConforms(method: string, route: string, answer: { status: number; json: unknown }): void {
    const op = api.matchOperation({ method: method.toLowerCase(), path: route, headers: {} })
    expect(op, `${method} ${route}`).toBeTruthy()
    const result = api.validateResponse(answer.json, op!, answer.status)
    // The create call's 400 is a oneOf of error shapes whose fields are all optional, so any
    // error body matches several; reading it as anyOf is the only way a body can conform.
    const errors = (result.errors ?? []).filter(
      (e: { keyword: string; params: unknown }) => !(e.keyword === 'oneOf' && (e.params as { passingSchemas?: unknown[] }).passingSchemas?.length)
    )
    expect(errors, `${method} ${route} → ${answer.status}`).toEqual([])
  }

  it('conform for every call, success and error', async () => {
    const sim = await simulator({ concurrentLimit: 1 })
    const created = await call(sim, 'POST', '/export/forecast/forecast_total', { timePeriod: '2025_Q1' })
    expect(created.status).toBe(200)
    expectConforms('POST', '/export/forecast/forecast_total', created)
    const jobId = (created.json as { jobId: string }).jobId
    expectConforms('POST', '/export/forecast/forecast_total', await call(sim, 'POST', '/export/forecast/forecast_total', { timePeriod: '2025_Q2' })) // 400: limit
    expectConforms('GET', `/export/jobs/${jobId}`, await call(sim, 'GET', `/export/jobs/${jobId}`))
    expectConforms('GET', '/export/jobs', await call(sim, 'GET', '/export/jobs'))
    expectConforms('GET', '/admin/limits', await call(sim, 'GET', '/admin/limits'))
    expectConforms('PATCH', `/export/jobs/${jobId}`, await call(sim, 'PATCH', `/export/jobs/${jobId}`, { type: 'CANCEL' }))
    expectConforms('PATCH', `/export/jobs/${jobId}`, await call(sim, 'PATCH', `/export/jobs/${jobId}`, { type: 'CANCEL' })) // 400: finished
    expectConforms('GET', `/export/jobs/${jobId}/results`, await call(sim, 'GET', `/export/jobs/${jobId}/results`)) // 400: not DONE
  })
})
