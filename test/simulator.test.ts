import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from './simulator/server.ts'
import type { Simulator, SimulatorOptions } from './simulator/server.ts'

const LIMIT_MESSAGE = 'Your job could not be queued. You may have reached your monthly quota or concurrent job limit.'
const HEADER = ['User', 'Email', 'CRM User ID', 'Role', 'Parent Role', 'Timeframe', 'Field', 'Week', 'Start Day', 'End Day', 'Data Type', 'Data Value']

let sims: Simulator[] = []
afterEach(async () => {
  await Promise.all(sims.map(s => s.close()))
  sims = []
})

async function start(options?: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator(options)
  sims.push(sim)
  return sim
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface CallInit {
  method?: string
  body?: unknown
  key?: string | null
  signal?: AbortSignal
}

function call(sim: Simulator, path: string, init: CallInit = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  if (init.key !== null) headers['apikey'] = init.key ?? sim.apiKey
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
  return fetch(sim.url + path, { method: init.method ?? 'GET', headers, body, redirect: 'manual', signal: init.signal })
}

async function create(sim: Simulator, body: Record<string, unknown> = {}, forecastId = 'forecast_total'): Promise<string> {
  const res = await call(sim, `/export/forecast/${forecastId}`, { method: 'POST', body })
  const json = (await res.json()) as { jobId: string }
  expect(res.status, JSON.stringify(json)).toBe(200)
  expect(json.jobId).toMatch(/^[0-9a-f]{24}$/)
  return json.jobId
}

async function jobView(sim: Simulator, jobId: string): Promise<Record<string, unknown>> {
  const res = await call(sim, `/export/jobs/${jobId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

async function waitForStatus(sim: Simulator, jobId: string, status: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await jobView(sim, jobId)).status !== status) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} never reached ${status}`)
    await sleep(20)
  }
}

async function limits(sim: Simulator): Promise<Record<string, unknown>> {
  const res = await call(sim, '/admin/limits')
  expect(res.status).toBe(200)
  return ((await res.json()) as { jobs: Record<string, unknown> }).jobs
}

// The OpenAPI error shape: {code, namespace, errorId, message, orgId:int}.
async function expectError(res: Response, status: number, code: string, message?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/json')
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ code, namespace: expect.any(String), errorId: expect.any(String), message: expect.any(String) })
  expect(Number.isInteger(body.orgId)).toBe(true)
  if (message !== undefined) expect(body.message).toBe(message)
  return body
}

// The job as the OpenAPI schema types it.
function expectJobShape(view: Record<string, unknown>): void {
  for (const key of ['jobId', 'title', 'module', 'fileName', 'fileType', 'status', 'currency']) expect(typeof view[key], key).toBe('string')
  for (const key of ['userId', 'orgId', 'startTime', 'version', 'downloads']) expect(Number.isInteger(view[key]), key).toBe(true)
  for (const key of ['viewed', 'cellsTruncated', 'rowsTruncated']) expect(typeof view[key], key).toBe('boolean')
  for (const key of ['endTime', 'expiredTime']) if (key in view) expect(Number.isInteger(view[key]), key).toBe(true)
  expect(['SCHEDULED', 'STARTED', 'DONE', 'FAILED', 'CANCELLED', 'ABORTED']).toContain(view.status)
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

async function download(sim: Simulator, jobId: string): Promise<{ res: Response; bytes: Buffer }> {
  const res = await call(sim, `/export/jobs/${jobId}/results`)
  return { res, bytes: Buffer.from(await res.arrayBuffer()) }
}

// Minimal RFC 4180 reader, strict about CRLF record ends.
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c !== '"') field += c
      else if (text[i + 1] === '"') field += text[i++]
      else quoted = false
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}

describe('auth', () => {
  it('answers 401 without, with a wrong, or with a revoked key, and never records the key', async () => {
    const sim = await start()
    await expectError(await call(sim, '/admin/limits', { key: null }), 401, 'invalid_api_key', 'Invalid API token')
    await expectError(await call(sim, '/export/jobs', { key: 'wrong' }), 401, 'invalid_api_key')
    expect((await call(sim, '/admin/limits')).status).toBe(200)
    expect(sim.requests.map(r => [r.hadApiKey, r.status])).toEqual([
      [false, 401],
      [true, 401],
      [true, 200]
    ])
    expect(sim.requests[2].headers['apikey']).toBe('<redacted>')
    expect(JSON.stringify(sim.requests)).not.toContain(sim.apiKey)

    const revoked = await start({ revokedKey: true, apiKey: 'k-1' })
    expect(revoked.apiKey).toBe('k-1')
    await expectError(await call(revoked, '/export/forecast/f', { method: 'POST', body: {} }), 401, 'invalid_api_key')
    expect(revoked.jobs).toHaveLength(0)
  })

  it('answers 403 on job status when the token has no rights on jobs', async () => {
    const sim = await start({ forbiddenJobs: true })
    const jobId = await create(sim)
    await expectError(await call(sim, `/export/jobs/${jobId}`), 403, 'forbidden')
  })
})

describe('create', () => {
  it('validates the body with the OpenAPI codes', async () => {
    const sim = await start({ forecasts: ['forecast_total'] })
    const post = (body: unknown, forecast = 'forecast_total'): Promise<Response> => call(sim, `/export/forecast/${forecast}`, { method: 'POST', body })
    await expectError(await post({ typesToExport: ['forecast', 'crm_total'] }), 400, 'type_not_supported')
    await expectError(
      await post({ typesToExport: ['forecast_value', 'quota_value'] }),
      400,
      'bad_request',
      'The following typesToExport values are invalid: ["forecast_value", "quota_value"]'
    )
    await expectError(await post({ currency: 'usd' }), 400, 'bad_request', 'The currency parameter is invalid.')
    await expectError(await post({ timePeriod: '2024-Q3' }), 400, 'bad_request')
    await expectError(await post({ exportFormat: 'XML' }), 400, 'bad_request')
    await expectError(await post({ schedule: 'ALWAYS' }), 400, 'bad_request')
    await expectError(await post({ includeHistorical: 'yes' }), 400, 'bad_request')
    await expectError(await post('{not json'), 400, 'bad_request', 'The request body was malformed: {not json')
    await expectError(await post({}, 'deal_owner'), 400, 'no_such_forecast_config')
    expect(sim.jobs).toHaveLength(0)
    // An empty body is fine: every field is optional.
    const ok = await call(sim, '/export/forecast/forecast_total', { method: 'POST' })
    expect(ok.status).toBe(200)
    expect(sim.jobs[0]).toMatchObject({ forecastId: 'forecast_total', period: 'current', body: {} })
  })
})

describe('job lifecycle', () => {
  it('goes SCHEDULED → STARTED → DONE in scaled real time with OpenAPI-shaped jobs', async () => {
    const sim = await start({ defaults: { queuedSeconds: 2, runSeconds: 2 }, timeScale: 0.1, currentPeriod: '2026_Q4' })
    const jobId = await create(sim, { timePeriod: '2024_Q3', exportFormat: 'CSV', currency: 'EUR' })
    const job = sim.jobs[0]
    const first = await jobView(sim, jobId)
    expectJobShape(first)
    expect(first).toMatchObject({ jobId, status: 'SCHEDULED', module: 'FORECAST', fileType: 'CSV', currency: 'EUR', startTime: job.createdAt, downloads: 0 })
    expect(first).not.toHaveProperty('endTime')
    expect(first.fileName).toMatch(/^clari_export_forecast_total_2024_Q3_\d{8}_\d{6}\.csv$/)

    await sleep(job.createdAt + 300 - Date.now())
    expect((await jobView(sim, jobId)).status).toBe('STARTED')
    expect(job.status).toBe('STARTED')

    await sleep(job.createdAt + 430 - Date.now())
    const done = await jobView(sim, jobId)
    expectJobShape(done)
    expect(done.status).toBe('DONE')
    expect(done.endTime).toBe(job.createdAt + 400)
    expect(done.expiredTime).toBe((done.endTime as number) + 30 * 86_400_000)
    expect(sim.jobs[0]).toMatchObject({ period: '2024_Q3', resolvedPeriod: '2024_Q3', status: 'DONE', cancelled: false })
  })

  it('applies per-period behaviour, FAILED outcome and the current-period label', async () => {
    const sim = await start({
      currentPeriod: '2026_Q4',
      defaults: { queuedSeconds: 0, runSeconds: 0 },
      periods: { '2024_Q1': { outcome: 'FAILED' }, current: { rows: 3 } }
    })
    const failed = await create(sim, { timePeriod: '2024_Q1' })
    const current = await create(sim)
    expect((await jobView(sim, failed)).status).toBe('FAILED')
    await expectError(await call(sim, `/export/jobs/${failed}/results`), 400, 'invalid_jobId')
    const view = await jobView(sim, current)
    expect(view.fileName).toMatch(/^clari_export_forecast_total_2026_Q4_/)
    expect(sim.jobs[1]).toMatchObject({ period: 'current', resolvedPeriod: '2026_Q4' })
    expect(JSON.parse(sim.content(current).toString())).toHaveLength(4)
  })

  it('answers 400 for unknown jobs and for results of unfinished jobs', async () => {
    const sim = await start({ defaults: { queuedSeconds: 5 } })
    const jobId = await create(sim)
    await expectError(await call(sim, `/export/jobs/${jobId}/results`), 400, 'invalid_jobId', 'Cannot retrieve data for job because it has not finished executing.')
    await expectError(await call(sim, '/export/jobs/0123456789abcdef01234567'), 400, 'invalid_jobId')
    await expectError(await call(sim, '/export/nothing'), 404, 'not_found')
  })

  it('lists every job of the key', async () => {
    const sim = await start({ defaults: { queuedSeconds: 0, runSeconds: 0 } })
    const a = await create(sim, { timePeriod: '2024_Q3' })
    const b = await create(sim, { exportFormat: 'CSV' }, 'other_tab')
    const res = await call(sim, '/export/jobs')
    const list = (await res.json()) as Record<string, unknown>[]
    expect(list.map(j => j.jobId)).toEqual([a, b])
    list.forEach(expectJobShape)
    expect(list.map(j => j.fileType)).toEqual(['JSON', 'CSV'])
  })
})

describe('results', () => {
  it('serves JSON rows with Content-Length, equal to content(jobId), and records the serving', async () => {
    const sim = await start({ defaults: { queuedSeconds: 0, runSeconds: 0, rows: 10 } })
    const jobId = await create(sim, { typesToExport: ['forecast', 'quota'] })
    const { res, bytes } = await download(sim, jobId)
    expect(res.status).toBe(200)
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length)
    const rows = JSON.parse(bytes.toString('utf8')) as string[][]
    expect(rows).toHaveLength(11)
    expect(rows[0]).toEqual(HEADER)
    for (const row of rows) {
      expect(row).toHaveLength(12)
      for (const cell of row) expect(typeof cell).toBe('string')
    }
    expect(rows.map(r => r[0])).toEqual(expect.arrayContaining(['Zoë "Z" O\'Brien, Jr.', 'Jürgen Müller', '李雷']))
    expect(sim.content(jobId).equals(bytes)).toBe(true)
    expect(sim.jobs[0].served).toEqual([{ bytes: bytes.length, sha256: sha256(bytes), complete: true }])
    expect(sim.jobs[0].downloads).toBe(1)
    expect((await jobView(sim, jobId)).downloads).toBe(1)
    // Deterministic: a second download is byte-identical.
    expect((await download(sim, jobId)).bytes.equals(bytes)).toBe(true)
  })

  it('serves CSV with RFC 4180 quoting of the tricky names', async () => {
    const sim = await start({ defaults: { queuedSeconds: 0, runSeconds: 0 } })
    const jobId = await create(sim, { exportFormat: 'CSV', includeHistorical: true })
    const { res, bytes } = await download(sim, jobId)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    const text = bytes.toString('utf8')
    expect(text).toContain('"Zoë ""Z"" O\'Brien, Jr.",')
    expect(text).toContain('\r\nJürgen Müller,')
    expect(text).toContain('\r\n李雷,')
    const rows = parseCsv(text)
    expect(rows).toHaveLength(26)
    expect(rows[0]).toEqual(HEADER)
    for (const row of rows) expect(row).toHaveLength(12)
    expect(rows.map(r => r[0])).toEqual(expect.arrayContaining(['Zoë "Z" O\'Brien, Jr.', 'Jürgen Müller', '李雷', "O'Neil, Shaquille"]))
    expect(sim.content(jobId).equals(bytes)).toBe(true)
  })

  it('streams a huge result with an exact Content-Length', async () => {
    const sim = await start({ defaults: { queuedSeconds: 0, runSeconds: 0, resultBytes: 5_000_000 } })
    const jobId = await create(sim)
    const res = await call(sim, `/export/jobs/${jobId}/results`)
    const length = Number(res.headers.get('content-length'))
    expect(length).toBeGreaterThanOrEqual(5_000_000)
    expect(length).toBeLessThan(5_001_000)
    const hash = createHash('sha256')
    let received = 0
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk)
      received += chunk.length
    }
    expect(received).toBe(length)
    expect(sim.jobs[0].served).toEqual([{ bytes: length, sha256: hash.digest('hex'), complete: true }])
    const content = sim.content(jobId)
    expect(content.length).toBe(length)
    expect((JSON.parse(content.toString('utf8')) as unknown[])[0]).toEqual(HEADER)
  })
})

describe('limits', () => {
  it('refuses a job over the concurrent limit, then accepts once a job finished', async () => {
    const sim = await start({ concurrentLimit: 1, defaults: { queuedSeconds: 0, runSeconds: 0.15 } })
    const first = await create(sim)
    const refused = await expectError(await call(sim, '/export/forecast/x', { method: 'POST', body: {} }), 400, 'export_limit_reached', LIMIT_MESSAGE)
    expect(refused.source).toBe('Export')
    expect(await limits(sim)).toEqual({
      concurrentLimit: 1,
      monthlyQuota: 1000,
      runningJobIds: [first],
      submittedJobIds: [first],
      availableConcurrentLimit: 0,
      availableMonthlyQuota: 999
    })
    await waitForStatus(sim, first, 'DONE')
    const after = await limits(sim)
    expect(after).not.toHaveProperty('runningJobIds')
    expect(after.availableConcurrentLimit).toBe(1)
    await create(sim)
    expect(sim.jobs).toHaveLength(2)
  })

  it('refuses a job when the monthly quota is used up, with the same message', async () => {
    const sim = await start({ monthlyQuota: 3, usedQuota: 2, defaults: { queuedSeconds: 5 } })
    const jobId = await create(sim)
    await expectError(await call(sim, '/export/forecast/x', { method: 'POST', body: {} }), 400, 'export_limit_reached', LIMIT_MESSAGE)
    const before = await limits(sim)
    expect(before).toMatchObject({ monthlyQuota: 3, availableMonthlyQuota: 0, availableConcurrentLimit: 2 })
    expect(before.submittedJobIds).toHaveLength(3)
    expect(before.submittedJobIds).toContain(jobId)
    // Cancelling gives the quota unit back.
    expect((await call(sim, `/export/jobs/${jobId}`, { method: 'PATCH', body: { type: 'CANCEL' } })).status).toBe(200)
    expect((await limits(sim)).availableMonthlyQuota).toBe(1)
    await create(sim)
  })

  it("counts someone else's jobs against concurrency until they are released", async () => {
    const sim = await start({ concurrentLimit: 2, externalJobs: { count: 2, releaseAfterSeconds: 0.2 } })
    const held = await limits(sim)
    expect(held.availableConcurrentLimit).toBe(0)
    expect(held.runningJobIds).toHaveLength(2)
    await expectError(await call(sim, '/export/forecast/x', { method: 'POST', body: {} }), 400, 'export_limit_reached')
    await sleep(250)
    expect((await limits(sim)).availableConcurrentLimit).toBe(2)
    await create(sim)
  })
})

describe('cancel', () => {
  it('cancels queued jobs, aborts running ones, refuses finished ones', async () => {
    const sim = await start({ periods: { '2024_Q1': { queuedSeconds: 5 }, '2024_Q2': { queuedSeconds: 0, runSeconds: 5 }, '2024_Q3': { queuedSeconds: 0, runSeconds: 0 } } })
    const queued = await create(sim, { timePeriod: '2024_Q1' })
    const running = await create(sim, { timePeriod: '2024_Q2' })
    const finished = await create(sim, { timePeriod: '2024_Q3' })
    const cancel = (jobId: string, body: unknown = { type: 'CANCEL' }): Promise<Response> => call(sim, `/export/jobs/${jobId}`, { method: 'PATCH', body })

    expect(await (await cancel(queued)).json()).toEqual({ status: 'CANCELLED', successful: true })
    expect(await (await cancel(running)).json()).toEqual({ status: 'ABORTED', successful: true })
    await expectError(await cancel(finished), 400, 'export_failed_to_cancel', 'Cannot cancel the job because it already finished executing.')
    await expectError(await cancel(queued), 400, 'export_failed_to_cancel')
    await expectError(await cancel(finished, { type: 'PAUSE' }), 400, 'bad_request')

    const view = await jobView(sim, queued)
    expect(view.status).toBe('CANCELLED')
    expect(Number.isInteger(view.endTime)).toBe(true)
    expect(sim.jobs.map(j => [j.status, j.cancelled])).toEqual([
      ['CANCELLED', true],
      ['ABORTED', true],
      ['DONE', false]
    ])
    expect((await limits(sim)).submittedJobIds).toEqual([finished])
  })
})

describe('faults', () => {
  const quick = { defaults: { queuedSeconds: 0, runSeconds: 0 } }

  it('status faults answer the code with a 500-shaped body, consumed per match', async () => {
    const sim = await start({ ...quick, faults: [{ kind: 'status', code: 500, route: 'create', times: 2 }] })
    await expectError(await call(sim, '/export/forecast/f', { method: 'POST', body: {} }), 500, 'internal_server_error', 'An unexpected error occurred.')
    await expectError(await call(sim, '/export/forecast/f', { method: 'POST', body: {} }), 500, 'internal_server_error')
    await create(sim, {}, 'f')
    expect(sim.jobs).toHaveLength(1)
    expect(sim.requests.map(r => [r.route, r.status])).toEqual([
      ['create', 500],
      ['create', 500],
      ['create', 200]
    ])

    sim.inject({ kind: 'status', code: 503, route: 'status', period: '2024_Q3' })
    sim.inject({ kind: 'status', code: 502, route: 'any' })
    await expectError(await call(sim, '/admin/limits'), 502, 'bad_gateway')
    const job2024 = await create(sim, { timePeriod: '2024_Q3' })
    expect((await call(sim, `/export/jobs/${sim.jobs[0].jobId}`)).status).toBe(200)
    await expectError(await call(sim, `/export/jobs/${job2024}`), 503, 'service_unavailable')
    expect((await call(sim, `/export/jobs/${job2024}`)).status).toBe(200)
  })

  it('drop destroys the socket and records status 0', async () => {
    const sim = await start({ faults: [{ kind: 'drop', route: 'list' }] })
    await expect(call(sim, '/export/jobs')).rejects.toThrow()
    expect((await call(sim, '/export/jobs')).status).toBe(200)
    expect(sim.requests.map(r => [r.route, r.status])).toEqual([
      ['list', 0],
      ['list', 200]
    ])
  })

  it('lost-create creates the job but loses the answer (drop, 500, hang)', async () => {
    const sim = await start({
      ...quick,
      faults: [
        { kind: 'lost-create', mode: 'drop' },
        { kind: 'lost-create', mode: '500' },
        { kind: 'lost-create', mode: 'hang', period: '2024_Q3' }
      ]
    })
    await expect(call(sim, '/export/forecast/f', { method: 'POST', body: {} })).rejects.toThrow()
    await expectError(await call(sim, '/export/forecast/f', { method: 'POST', body: {} }), 500, 'internal_server_error')
    await expect(call(sim, '/export/forecast/f', { method: 'POST', body: { timePeriod: '2024_Q3' }, signal: AbortSignal.timeout(200) })).rejects.toThrow()
    expect(sim.jobs).toHaveLength(3)
    expect(sim.requests.map(r => r.status)).toEqual([0, 500, 0])
    const list = (await (await call(sim, '/export/jobs')).json()) as { jobId: string; fileName: string }[]
    expect(list.map(j => j.jobId)).toEqual(sim.jobs.map(j => j.jobId))
    expect(list[2].fileName).toContain('_f_2024_Q3_')
  })

  it('truncate sends the full Content-Length but half the body', async () => {
    const sim = await start({ ...quick, faults: [{ kind: 'truncate' }] })
    const jobId = await create(sim)
    const res = await call(sim, `/export/jobs/${jobId}/results`)
    const length = Number(res.headers.get('content-length'))
    expect(res.status).toBe(200)
    await expect(res.arrayBuffer()).rejects.toThrow()
    const served = sim.jobs[0].served[0]
    expect(served).toMatchObject({ bytes: Math.floor(length / 2), complete: false })
    expect(served.sha256).toBe(sha256(sim.content(jobId).subarray(0, served.bytes)))
    const again = await download(sim, jobId)
    expect(again.bytes.equals(sim.content(jobId))).toBe(true)
    expect(sim.jobs[0].downloads).toBe(2)
  })

  it('redirect sends results to the storage host, which serves them and records a forwarded apikey', async () => {
    const sim = await start({
      ...quick,
      faults: [
        { kind: 'redirect', times: 2 },
        { kind: 'redirect', to: 'http-downgrade' }
      ]
    })
    expect(new URL(sim.storageUrl).host).not.toBe(new URL(sim.url).host)
    const jobId = await create(sim)
    const res = await call(sim, `/export/jobs/${jobId}/results`)
    expect(res.status).toBe(302)
    const location = res.headers.get('location') ?? ''
    expect(location.startsWith(`${sim.storageUrl}/blobs/${jobId}?sig=`)).toBe(true)

    const blob = await fetch(location)
    const bytes = Buffer.from(await blob.arrayBuffer())
    expect(bytes.equals(sim.content(jobId))).toBe(true)
    expect(Number(blob.headers.get('content-length'))).toBe(bytes.length)
    expect(sim.storageRequests[0]).toMatchObject({ route: 'storage', hadApiKey: false, status: 200, path: `/blobs/${jobId}` })
    expect(sim.jobs[0]).toMatchObject({ downloads: 1, served: [{ bytes: bytes.length, complete: true }] })

    // A client that forwards the key is caught, and the record still hides the key.
    const second = (await call(sim, `/export/jobs/${jobId}/results`)).headers.get('location') ?? ''
    await (await fetch(second, { headers: { apikey: sim.apiKey } })).arrayBuffer()
    expect(sim.storageRequests[1]).toMatchObject({ hadApiKey: true, headers: { apikey: '<redacted>' } })

    const third = await call(sim, `/export/jobs/${jobId}/results`)
    expect(third.headers.get('location')).toMatch(/^http:\/\//)
    expect((await fetch(`${sim.storageUrl}/blobs/${jobId}?sig=forged`)).status).toBe(403)
    expect(sim.requests.filter(r => r.route === 'results').map(r => r.status)).toEqual([302, 302, 302])
  })

  describe('429 header styles', () => {
    const cases = [
      ['none', {}],
      ['retry-after-seconds', { 'retry-after': '2' }],
      ['ratelimit', { 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': '2' }]
    ] as const
    for (const [style, expected] of cases) {
      it(style, async () => {
        const sim = await start({ faults: [{ kind: 'status', code: 429, route: 'limits', style, waitSeconds: 2 }] })
        const res = await call(sim, '/admin/limits')
        await expectError(res, 429, 'too_many_requests')
        const headers = Object.fromEntries([...res.headers].filter(([k]) => /^(retry-after|x?-?ratelimit)/.test(k)))
        expect(headers).toEqual(expected)
      })
    }

    it('retry-after-seconds may be fractional, and is scaled', async () => {
      const sim = await start({ timeScale: 0.1, faults: [{ kind: 'status', code: 429, route: 'any', style: 'retry-after-seconds', waitSeconds: 3 }] })
      expect((await call(sim, '/export/jobs')).headers.get('retry-after')).toBe('0.3')
    })

    it('retry-after-date is an HTTP-date rounded up', async () => {
      const sim = await start({ faults: [{ kind: 'status', code: 429, route: 'limits', style: 'retry-after-date', waitSeconds: 2 }] })
      const before = Date.now()
      const value = (await call(sim, '/admin/limits')).headers.get('retry-after') ?? ''
      expect(value).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
      const at = Date.parse(value)
      expect(at).toBeGreaterThanOrEqual(before + 2000 - 1000)
      expect(at).toBeLessThanOrEqual(Date.now() + 3000)
      expect(at % 1000).toBe(0)
      expect(at).toBeGreaterThanOrEqual(Math.floor((before + 2000) / 1000) * 1000)
    })

    it('x-ratelimit gives the reset as epoch seconds', async () => {
      const sim = await start({ faults: [{ kind: 'status', code: 429, route: 'limits', style: 'x-ratelimit', waitSeconds: 2 }] })
      const before = Date.now()
      const res = await call(sim, '/admin/limits')
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
      expect(res.headers.get('x-ratelimit-limit')).toBe('100')
      const reset = Number(res.headers.get('x-ratelimit-reset'))
      expect(reset).toBeGreaterThanOrEqual(Math.ceil((before + 2000) / 1000))
      expect(reset).toBeLessThanOrEqual(Math.ceil((Date.now() + 2000) / 1000))
    })
  })
})

describe('rate limiter', () => {
  it('enforces a fixed window and sends RateLimit-* on every answer', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowSeconds: 30, style: 'ratelimit' } })
    const remaining: (string | null)[] = []
    for (let i = 0; i < 3; i++) {
      const res = await call(sim, '/admin/limits')
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('3')
      remaining.push(res.headers.get('ratelimit-remaining'))
    }
    expect(remaining).toEqual(['2', '1', '0'])
    const over = await call(sim, '/export/jobs', { key: null })
    await expectError(over, 429, 'too_many_requests')
    expect(over.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(over.headers.get('ratelimit-reset'))).toBeGreaterThan(25)
    expect(sim.requests.map(r => r.status)).toEqual([200, 200, 200, 429])
  })

  it('opens again in the next window (retry-after-seconds style)', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowSeconds: 0.3, style: 'retry-after-seconds' } })
    expect((await call(sim, '/admin/limits')).status).toBe(200)
    const over = await call(sim, '/admin/limits')
    expect(over.status).toBe(429)
    const wait = Number(over.headers.get('retry-after'))
    expect(wait).toBeGreaterThan(0)
    expect(wait).toBeLessThanOrEqual(0.3)
    await sleep(wait * 1000 + 20)
    expect((await call(sim, '/admin/limits')).status).toBe(200)
  })

  it('x-ratelimit style sends X-RateLimit-* on every answer', async () => {
    const sim = await start({ rateLimit: { limit: 5, windowSeconds: 60, style: 'x-ratelimit' } })
    const res = await call(sim, '/export/jobs')
    expect(res.headers.get('x-ratelimit-limit')).toBe('5')
    expect(res.headers.get('x-ratelimit-remaining')).toBe('4')
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000)
  })
})

describe('record and options', () => {
  it('records path without prefix, route, query and body; honours a custom prefix', async () => {
    const sim = await start({ prefix: '/api/v4/' })
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v4$/)
    await create(sim, { timePeriod: '2024_Q3' }, 'tab')
    await call(sim, '/export/jobs?x=1')
    expect(sim.requests[0]).toMatchObject({ method: 'POST', path: '/export/forecast/tab', route: 'create', body: { timePeriod: '2024_Q3' }, status: 200 })
    expect(sim.requests[1]).toMatchObject({ method: 'GET', path: '/export/jobs', route: 'list', query: 'x=1' })
    expect(sim.requests[0].at).toBeGreaterThanOrEqual(0)
  })
})

describe('cli', () => {
  it('prints the URL and key, serves, and exits cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clari-sim-'))
    const config = join(dir, 'sim.json')
    writeFileSync(config, JSON.stringify({ apiKey: 'cli-key', monthlyQuota: 7 }))
    const child = spawn(process.execPath, ['test/simulator/cli.ts', '--config', config], { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const env: Record<string, string> = {}
    for (let i = 0; i < 3; i++) {
      const line = String((await lines.next()).value)
      const [name, ...rest] = line.split('=')
      env[name] = rest.join('=')
    }
    expect(env.CLARI_SIMULATOR_API_KEY).toBe('cli-key')
    const res = await fetch(`${env.CLARI_SIMULATOR_URL}/admin/limits`, { headers: { apikey: 'cli-key' } })
    expect(((await res.json()) as { jobs: { monthlyQuota: number } }).jobs.monthlyQuota).toBe(7)
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
