// The action's main job end to end: dist/index.js on Node 24 against the simulator and
// a loopback stand-in for GitHub's artifact backend, checked the way a user would.
import { afterEach, describe, expect, it } from 'vitest'
import { startArtifactBackend, type ArtifactBackend } from '../support/artifact-backend.ts'
import { closeSimulators, expectNoKey, fileOf, jobsByPeriod, manifestOf, simInputs, simulator } from '../support/e2e.ts'
import { runAction } from '../support/run-action.ts'

let backend: ArtifactBackend | undefined
afterEach(async () => {
  await closeSimulators()
  await backend?.close()
  backend = undefined
})

describe.each(['JSON', 'CSV'])('a %s export of several periods', format => {
  it('writes every export byte for byte, the manifest, the outputs and the artifact', async () => {
    const sim = await simulator()
    backend = await startArtifactBackend()
    const run = await runAction(simInputs(sim, { periods: '2025_Q3..2025_Q4\ncurrent', 'export-format': format.toLowerCase(), 'retention-days': '7' }), { env: backend.env })
    expect(run.code, run.stdout).toBe(0)

    // One job per period, created in order, with the body the OpenAPI description allows.
    expect(sim.jobs.map(j => j.period)).toEqual(['2025_Q3', '2025_Q4', 'current'])
    expect(sim.jobs[0].body).toEqual({ timePeriod: '2025_Q3', typesToExport: ['forecast', 'forecast_updated'], exportFormat: format, schedule: 'NONE', includeHistorical: false })
    expect(sim.jobs[2].body).not.toHaveProperty('timePeriod')

    expect(JSON.parse(run.outputs.succeeded)).toEqual(['2025_Q3', '2025_Q4', 'current'])
    expect(JSON.parse(run.outputs.failed)).toEqual([])
    expect(JSON.parse(run.outputs['job-ids'])).toEqual(Object.fromEntries(sim.jobs.map(j => [j.period, j.jobId])))

    const ext = format.toLowerCase()
    const manifest = await manifestOf(run)
    expect(manifest.forecastId).toBe('forecast_total')
    for (const job of sim.jobs) {
      const name = `forecast_total_${job.period}.${ext}`
      const served = sim.content(job.jobId)
      expect(await fileOf(run, name)).toEqual(served)
      const entry = manifest.periods.find(p => p.period === job.period)
      expect(entry).toMatchObject({ status: 'DONE', jobId: job.jobId, file: name, bytes: served.length, rows: 30, sha256: job.served[0].sha256, error: null })
      expect(entry?.polls).toBeGreaterThan(0)
    }
    expect(manifest.stats.requests).toBe(sim.requests.length)

    // The artifact holds the same bytes, plus the manifest.
    const live = backend.artifacts.filter(a => !a.deleted)
    expect(live).toHaveLength(1)
    expect(live[0].name).toBe('clari-exports')
    expect(live[0].retentionDays).toBe(7)
    const stored = live[0].files()
    expect(Object.keys(stored).sort()).toEqual([...sim.jobs.map(j => `forecast_total_${j.period}.${ext}`), 'manifest.json'].sort())
    for (const job of sim.jobs) expect(stored[`forecast_total_${job.period}.${ext}`]).toEqual(sim.content(job.jobId))
    expect(run.outputs['artifact-id']).toBe(String(live[0].id))

    expect(run.summary).toContain('| ✅ | 2025_Q3 | DONE |')
    expect(run.stdout).toContain('::group::2025_Q3: DONE')
    await expectNoKey(run, sim.apiKey)
  })
})

describe('a failed period alongside good ones', () => {
  const periods = '2025_Q1, 2025_Q2, 2025_Q3'
  const failQ2 = { periods: { '2025_Q2': { outcome: 'FAILED' as const } } }

  it('keeps and uploads the good ones and fails the step under fail-on: any', async () => {
    const sim = await simulator(failQ2)
    backend = await startArtifactBackend()
    const run = await runAction(simInputs(sim, { periods }), { env: backend.env })
    expect(run.code).toBe(1)
    expect(JSON.parse(run.outputs.succeeded)).toEqual(['2025_Q1', '2025_Q3'])
    expect(JSON.parse(run.outputs.failed)).toEqual(['2025_Q2'])
    const manifest = await manifestOf(run)
    expect(manifest.periods.map(p => [p.period, p.status])).toEqual([
      ['2025_Q1', 'DONE'],
      ['2025_Q2', 'FAILED'],
      ['2025_Q3', 'DONE']
    ])
    expect(manifest.periods[1]).toMatchObject({ file: null, bytes: null })
    expect(manifest.periods[1].error).toMatch(/FAILED/)
    expect(Object.keys(backend.artifacts[0].files()).sort()).toEqual(['forecast_total_2025_Q1.json', 'forecast_total_2025_Q3.json', 'manifest.json'])
    expect(run.stdout).toMatch(/::error title=Clari export of 2025_Q2 failed::2025_Q2: Clari reported the job FAILED/)
    expect(run.stdout).toMatch(/::error::1 of 3 period\(s\) failed: 2025_Q2 \(fail-on: any\)/)
    expect(run.summary).toContain('| ❌ | 2025_Q2 | FAILED |')
  })

  it.each([
    ['none', 0],
    ['all', 0]
  ])('passes under fail-on: %s', async (failOn, code) => {
    const sim = await simulator(failQ2)
    const run = await runAction(simInputs(sim, { periods, 'fail-on': failOn }))
    expect(run.code).toBe(code)
    expect(JSON.parse(run.outputs.failed)).toEqual(['2025_Q2'])
    expect(run.stdout).toContain('::warning::1 period(s) failed (2025_Q2), but fail-on is')
  })

  it('fails under fail-on: all when every period failed', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 0.1, outcome: 'FAILED' } })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2', 'fail-on': 'all' }))
    expect(run.code).toBe(1)
  })
})

describe('rate limits (429)', () => {
  // The simulator answers the first status call with 429 and the header style given;
  // the action must wait what the header asks before the next call.
  it.each([
    ['retry-after-seconds', 1],
    ['retry-after-date', 1],
    ['ratelimit', 1],
    ['x-ratelimit', 1]
  ] as const)('honours %s', async (style, waitSeconds) => {
    const sim = await simulator({ faults: [{ kind: 'status', code: 429, route: 'status', style, waitSeconds }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code, run.stdout).toBe(0)
    const i = sim.requests.findIndex(r => r.status === 429)
    expect(i).toBeGreaterThanOrEqual(0)
    const gap = sim.requests[i + 1].at - sim.requests[i].at
    // An HTTP-date has whole-second resolution, so that style may ask for a little less.
    expect(gap).toBeGreaterThanOrEqual(style === 'retry-after-date' ? 0 : 950)
    if (style !== 'retry-after-date') expect(gap).toBeLessThan(3000)
    const manifest = await manifestOf(run)
    expect(manifest.stats.rateLimited).toBe(1)
    expect(manifest.stats.waitedSeconds).toBeGreaterThan(0)
  })

  it('backs off with jitter when no header says how long, and recovers', async () => {
    const sim = await simulator({ faults: [{ kind: 'status', code: 429, route: 'any', style: 'none', times: 3 }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code, run.stdout).toBe(0)
    expect((await manifestOf(run)).stats.rateLimited).toBe(3)
    expect(run.stdout).toMatch(/429 rate limited .* \(backoff\)/)
  })
})

it('retries 5xx and dropped connections on polls, results and limits', async () => {
  const sim = await simulator({
    faults: [
      { kind: 'status', code: 500, route: 'limits' },
      { kind: 'status', code: 503, route: 'status', times: 2 },
      { kind: 'drop', route: 'status' },
      { kind: 'status', code: 502, route: 'results' }
    ]
  })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
  expect(run.code, run.stdout).toBe(0)
  expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toEqual(sim.content(sim.jobs[0].jobId))
  expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1 })
  expect((await manifestOf(run)).stats.retries).toBeGreaterThanOrEqual(5)
})

describe('bad inputs are refused before any request', () => {
  it.each([
    ['periods', '2024-Q1', 'Input \'periods\' has "2024-Q1"'],
    ['periods', '2025_Q2..2024_Q3', "Input 'periods' has a range that runs backwards"],
    ['export-format', 'XML', 'Input \'export-format\' is "XML"; allowed values: JSON, CSV'],
    ['types-to-export', 'forecast,revenue', 'Input \'types-to-export\' has "revenue"'],
    ['poll-interval', 'fast', 'Input \'poll-interval\' is "fast"'],
    ['retention-days', '365', 'Input \'retention-days\' is "365"; give a whole number from 0 to 90'],
    ['compression-level', '-1', 'Input \'compression-level\' is "-1"'],
    ['max-concurrent-jobs', '0', 'Input \'max-concurrent-jobs\' is "0"'],
    ['artifact-name', 'exports:weekly', 'Input \'artifact-name\' is "exports:weekly"'],
    ['fail-on', 'sometimes', 'Input \'fail-on\' is "sometimes"'],
    ['forecast-id', '', "Input 'forecast-id' is required"]
  ])('%s = %j', async (input, value, message) => {
    const sim = await simulator()
    const run = await runAction(simInputs(sim, { [input]: value }))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(`::error::${message}`)
    expect(sim.requests).toHaveLength(0)
    await expectNoKey(run, sim.apiKey)
  })

  it('a plain-http base-url that is not loopback', async () => {
    const run = await runAction({ 'api-key': 'k', 'forecast-id': 'f', 'base-url': 'http://api.clari.com/v4' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('::error::Input \'base-url\' is "http://api.clari.com/v4"; it must use https')
  })
})

it('skips the upload outside GitHub Actions and keeps the files', async () => {
  const sim = await simulator()
  const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
  expect(run.code).toBe(0)
  expect(run.stdout).toContain('::notice::not uploaded: not running on GitHub Actions (no ACTIONS_RUNTIME_TOKEN)')
  expect(run.outputs['artifact-id']).toBe('')
  expect(run.outputs['artifact-url']).toBe('')
  expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toEqual(sim.content(sim.jobs[0].jobId))
})

it('works under any base-url path prefix', async () => {
  const sim = await simulator({ prefix: '/gateway/clari/v4' })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
  expect(run.code, run.stdout).toBe(0)
  expect(sim.requests.every(r => r.route !== 'unknown')).toBe(true)
})
