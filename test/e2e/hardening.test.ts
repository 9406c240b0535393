// Failure modes found by trying to break the action, each pinned by a test through the
// bundled action: wrong adoption, jobs left running, hangs and crashes.
import { writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Simulator } from '../simulator/server.ts'
import { closeSimulators, expectNoKey, fileOf, manifestOf, simInputs, simulator } from '../support/e2e.ts'
import { runAction } from '../support/run-action.ts'

afterEach(closeSimulators)

/** Jobs still queued or running in the simulator: each one holds a slot and quota. */
const running = (sim: Simulator): string[] => sim.jobs.filter(j => j.status === 'SCHEDULED' || j.status === 'STARTED').map(j => j.period)

async function otherJob(sim: Simulator, forecast: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sim.url}/export/forecast/${forecast}`, {
    method: 'POST',
    headers: { apikey: sim.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  expect(res.status).toBe(200)
}

describe('lost create answers never adopt someone else’s job', () => {
  it('current does not take a job of another quarter made just before', async () => {
    const sim = await simulator({ faults: [{ kind: 'status', code: 502, route: 'create', period: 'current' }] })
    await otherJob(sim, 'forecast_total', { timePeriod: '2024_Q2' })
    const run = await runAction(simInputs(sim, { periods: 'current' }))
    expect(run.code, run.stdout).toBe(0)
    expect(sim.jobs.map(j => j.period)).toEqual(['2024_Q2', 'current'])
    expect(JSON.parse(run.outputs['job-ids']).current).toBe(sim.jobs[1].jobId)
    expect(await fileOf(run, 'forecast_total_current.json')).toEqual(sim.content(sim.jobs[1].jobId))
  })

  it('a job of the same quarter in another format or of another forecast is not ours', async () => {
    const sim = await simulator()
    await otherJob(sim, 'total', { timePeriod: '2025_Q1', exportFormat: 'JSON' })
    await otherJob(sim, 'big_total', { timePeriod: '2025_Q1', exportFormat: 'CSV' })
    sim.inject({ kind: 'status', code: 502, route: 'create' })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'forecast-id': 'total', 'export-format': 'csv' }))
    expect(run.code, run.stdout).toBe(0)
    const ours = sim.jobs.filter(j => j.forecastId === 'total' && j.body.exportFormat === 'CSV')
    expect(ours).toHaveLength(1)
    expect(JSON.parse(run.outputs['job-ids'])['2025_Q1']).toBe(ours[0].jobId)
    expect(run.stdout).toContain('no job was made; creating it again')
  })
})

describe('no job is left running', () => {
  it('a cancel goes out even while a long rate-limit pause holds the run', async () => {
    const sim = await simulator({
      defaults: { queuedSeconds: 0.02, runSeconds: 60 },
      faults: [{ kind: 'status', code: 429, route: 'status', style: 'retry-after-seconds', waitSeconds: 30 }]
    })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }), { signal: { name: 'SIGTERM', afterMs: 1500 } })
    expect(run.code).toBe(1)
    expect(running(sim)).toEqual([])
    expect(sim.jobs[0].cancelled).toBe(true)
    expect(run.stdout).toContain('Jobs still running in Clari were cancelled')
  })

  it('a job whose create call was still out when the run was cancelled is found and cancelled', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 60 }, faults: [{ kind: 'lost-create', mode: 'hang' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'request-timeout': '30' }), { signal: { name: 'SIGTERM', afterMs: 1500 } })
    expect(run.code).toBe(1)
    expect(sim.jobs).toHaveLength(1)
    expect(running(sim)).toEqual([])
    expect((await manifestOf(run)).periods[0].jobId).toBe(sim.jobs[0].jobId)
  })

  it('a period that fails on a 403 cancels its job', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 60 }, forbiddenJobs: true })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code).toBe(1)
    expect(running(sim)).toEqual([])
  })
})

it('a 400 or 408 on one status check costs an attempt, not the export', async () => {
  const sim = await simulator({
    faults: [
      { kind: 'status', code: 400, route: 'status' },
      { kind: 'status', code: 408, route: 'status' }
    ]
  })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
  expect(run.code, run.stdout).toBe(0)
  expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toEqual(sim.content(sim.jobs[0].jobId))
})

it('a CSV that is not the export is an error, not a file', async () => {
  const sim = await simulator({ faults: [{ kind: 'corrupt' }] })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'export-format': 'csv' }))
  expect(run.code).toBe(1)
  expect((await manifestOf(run)).periods[0].error).toMatch(/not a valid CSV export/)
  expect(await fileOf(run, 'forecast_total_2025_Q1.csv')).toBeUndefined()
})

it('an /admin/limits answer without numbers does not stop the exports', async () => {
  const sim = await simulator({ faults: [{ kind: 'status', code: 403, route: 'limits' }] })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
  expect(run.code, run.stdout).toBe(0)
  expect(run.stdout).toContain("Could not read Clari's /admin/limits")
})

describe('clear failures instead of crashes', () => {
  it('an output-dir that names a file fails before any request, with valid outputs', async () => {
    const sim = await simulator()
    const run0 = await runAction({})
    await writeFile(path.join(run0.workspace, 'exports'), 'not a folder')
    const run = await runAction(simInputs(sim, { 'output-dir': 'exports' }), { workspace: run0.workspace })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::Input 'output-dir' is ".*exports", which cannot be used as a folder/)
    expect(sim.requests).toHaveLength(0)
    expect(JSON.parse(run.outputs.succeeded)).toEqual([])
    expect(JSON.parse(run.outputs['job-ids'])).toEqual({})
    await expectNoKey(run, sim.apiKey)
  })

  it('bad inputs still leave parseable outputs', async () => {
    const run = await runAction({ 'api-key': 'k', 'forecast-id': 'f', periods: '2024_Q9' })
    expect(run.code).toBe(1)
    expect(JSON.parse(run.outputs.succeeded)).toEqual([])
    expect(JSON.parse(run.outputs.failed)).toEqual([])
  })
})

it('an unreachable Clari fails the run at once with what to check, creating nothing', async () => {
  const sim = await simulator()
  const url = sim.url
  await closeSimulators() // nothing listens there any more
  const run = await runAction({
    'api-key': 'k-1',
    'forecast-id': 'forecast_total',
    periods: '2025_Q1,2025_Q2',
    'base-url': url,
    'poll-interval': '0.05',
    'max-poll-interval': '0.1'
  })
  expect(run.code).toBe(1)
  expect(run.stdout).toMatch(/::error::could not reach Clari at 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)\. Check 'base-url'/)
  expect((await manifestOf(run)).periods.map(p => p.error)).toEqual([
    expect.stringMatching(/^not started: could not reach/),
    expect.stringMatching(/^not started: could not reach/)
  ])
})

it('a refusal every period would meet (unknown forecast) stops after the first create', async () => {
  const sim = await simulator({ forecasts: ['forecast_total'] })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1..2025_Q4', 'forecast-id': 'Forecast_Total' }))
  expect(run.code).toBe(1)
  expect(sim.requests.filter(r => r.route === 'create')).toHaveLength(1)
  const manifest = await manifestOf(run)
  expect(manifest.periods[0].error).toMatch(/Check the 'forecast-id' input/)
  expect(manifest.periods[3].error).toMatch(/^not started: .*Check the 'forecast-id' input/)
  expect(run.stdout.match(/::error title=Clari export of/g)).toHaveLength(1)
})

it('the manifest names the quarter Clari exported for current', async () => {
  const sim = await simulator({ currentPeriod: '2026_Q4' })
  const run = await runAction(simInputs(sim, { periods: 'current,2025_Q1' }))
  expect(run.code, run.stdout).toBe(0)
  expect((await manifestOf(run)).periods.map(p => [p.period, p.quarter])).toEqual([
    ['current', '2026_Q4'],
    ['2025_Q1', '2025_Q1']
  ])
})

describe('jobs of create calls cut short', () => {
  it('a cancel while the action looks for a lost job still finds and cancels it', async () => {
    const sim = await simulator({
      defaults: { queuedSeconds: 0.02, runSeconds: 60 },
      faults: [
        { kind: 'lost-create', mode: 'drop' },
        { kind: 'status', code: 429, route: 'list', style: 'retry-after-seconds', waitSeconds: 30 }
      ]
    })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }), { signal: { name: 'SIGTERM', afterMs: 1500 } })
    expect(run.code).toBe(1)
    expect(sim.jobs).toHaveLength(1)
    expect(running(sim)).toEqual([])
  })

  it('current and the same quarter named explicitly: a lost answer for current is adopted, not made twice', async () => {
    const sim = await simulator({ currentPeriod: '2026_Q4', faults: [{ kind: 'lost-create', mode: 'drop', period: 'current' }] })
    const run = await runAction(simInputs(sim, { periods: 'current, 2026_Q4' }))
    expect(run.code, run.stdout).toBe(0)
    expect(sim.jobs.filter(j => j.period === 'current')).toHaveLength(1)
    expect(sim.jobs.filter(j => j.period === '2026_Q4')).toHaveLength(1)
  })

  it('a job the cleanup cannot tell from someone else’s is named in the error, not silently left', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 60 }, faults: [{ kind: 'lost-create', mode: 'hang' }] })
    // A colleague starts the same export while ours hangs.
    setTimeout(() => void otherJob(sim, 'forecast_total', { timePeriod: '2025_Q1' }), 600)
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'request-timeout': '30' }), { signal: { name: 'SIGTERM', afterMs: 1500 } })
    expect(run.code).toBe(1)
    expect(sim.jobs).toHaveLength(2)
    const ids = sim.jobs.map(j => j.jobId)
    expect(run.stdout).toMatch(new RegExp(`Jobs that may still run in Clari, to cancel there: 2025_Q1 \\((${ids.join('|')})\\), 2025_Q1 \\((${ids.join('|')})\\)`))
  })
})
