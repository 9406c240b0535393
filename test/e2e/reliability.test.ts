// Every failure mode ends in a correct state: no duplicate job, no lost export, no
// quota burnt by an abandoned job, no secret in a log. Each test drives the bundled
// action against the simulator's fault injection and checks what a user would see.
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { Simulator } from '../simulator/server.ts'
import { startArtifactBackend, type ArtifactBackend } from '../support/artifact-backend.ts'
import { closeSimulators, expectNoKey, fileOf, jobsByPeriod, manifestOf, simInputs, simulator } from '../support/e2e.ts'
import { runAction } from '../support/run-action.ts'

let backend: ArtifactBackend | undefined
afterEach(async () => {
  await closeSimulators()
  await backend?.close()
  backend = undefined
})

const creates = (sim: Simulator): number => sim.requests.filter(r => r.route === 'create').length

describe('lost create answers', () => {
  it.each(['drop', '500', 'hang'] as const)('a job made by a create whose answer was lost (%s) is adopted, not made twice', async mode => {
    const sim = await simulator({ faults: [{ kind: 'lost-create', mode, period: '2025_Q2' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1..2025_Q3', 'request-timeout': '0.5' }))
    expect(run.code, run.stdout).toBe(0)
    expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1, '2025_Q2': 1, '2025_Q3': 1 })
    const q2 = sim.jobs.find(j => j.period === '2025_Q2')!
    expect(run.stdout).toContain(`found job ${q2.jobId}`)
    expect(await fileOf(run, 'forecast_total_2025_Q2.json')).toEqual(sim.content(q2.jobId))
    expect(JSON.parse(run.outputs['job-ids'])['2025_Q2']).toBe(q2.jobId)
  })

  it('creates again when the list shows the lost call made no job', async () => {
    const sim = await simulator({ faults: [{ kind: 'status', code: 502, route: 'create' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code, run.stdout).toBe(0)
    expect(creates(sim)).toBe(2)
    expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1 })
    expect(run.stdout).toContain('no job was made; creating it again')
  })

  it('never creates blindly: when the job list cannot be read, the period fails without a second create', async () => {
    const sim = await simulator({
      faults: [
        { kind: 'lost-create', mode: '500' },
        { kind: 'status', code: 503, route: 'list', times: 100 }
      ]
    })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', 'max-poll-interval': '0.05' }))
    expect(run.code).toBe(1)
    expect(creates(sim)).toBe(1)
    expect(sim.jobs).toHaveLength(1)
    const [entry] = (await manifestOf(run)).periods
    expect(entry.status).toBe('ERROR')
    expect(entry.error).toMatch(/job list could not be read.*Check the export jobs in Clari before running again/)
  })
})

describe('limits', () => {
  it('fails before creating anything when the monthly quota is smaller than the periods', async () => {
    const sim = await simulator({ monthlyQuota: 100, usedQuota: 98 })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1..2025_Q3' }))
    expect(run.code).toBe(1)
    expect(creates(sim)).toBe(0)
    expect(run.stdout).toContain("::error::Clari's monthly export quota has 2 exports left (of 100), fewer than the 3 periods asked for; nothing was created.")
    const manifest = await manifestOf(run)
    expect(manifest.periods.map(p => p.status)).toEqual(['ERROR', 'ERROR', 'ERROR'])
  })

  it('waits for a slot when the concurrent limit is full with other jobs of the org', async () => {
    const sim = await simulator({ concurrentLimit: 2, externalJobs: { count: 2, releaseAfterSeconds: 0.6 } })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2' }))
    expect(run.code, run.stdout).toBe(0)
    expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1, '2025_Q2': 1 })
    expect(sim.requests.filter(r => r.route === 'create' && r.status === 400).length).toBeGreaterThan(0)
    expect(run.stdout).toMatch(/\[2025_Q1\] .*concurrent job limit is full \(2 of 2 slots in use\); waiting for a slot/)
  })

  it('stops creating when the quota runs out mid-run, keeps what finished, and gives the numbers', async () => {
    const sim = await simulator({ monthlyQuota: 50, usedQuota: 47, defaults: { queuedSeconds: 0.02, runSeconds: 0.4 } })
    // A colleague's export takes the last unit of quota while our first job runs.
    const colleague = (async () => {
      while (sim.jobs.length === 0) await new Promise(r => setTimeout(r, 10))
      await fetch(`${sim.url}/export/forecast/other_forecast`, { method: 'POST', headers: { apikey: sim.apiKey, 'content-type': 'application/json' }, body: '{}' })
    })()
    const run = await runAction(simInputs(sim, { periods: '2025_Q1..2025_Q3' }))
    await colleague
    expect(run.code).toBe(1)
    expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1, '2025_Q2': 1, current: 1 })
    const manifest = await manifestOf(run)
    expect(manifest.periods.map(p => p.status)).toEqual(['DONE', 'DONE', 'ERROR'])
    expect(manifest.periods[2].error).toMatch(/monthly export quota is used up \(50 of 50 used in the last 30 days, 0 left\)/)
    expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toBeDefined()
  })

  it.each([
    [{ forecasts: ['forecast_total'] }, { 'forecast-id': 'forecast_totl' }, /does not exist.*Check the 'forecast-id' input/],
    [{}, { 'types-to-export': 'forecast,crm_total' }, /CRM Totals and CRM Closed are not supported.*Check the 'types-to-export' input/]
  ])('another 400 fails with Clari message and the input to fix, without retrying', async (options, inputs, message) => {
    const sim = await simulator(options)
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', ...inputs }))
    expect(run.code).toBe(1)
    expect(creates(sim)).toBe(1)
    expect((await manifestOf(run)).periods[0].error).toMatch(message)
  })
})

describe('auth', () => {
  it('401 fails fast with what to check, and no retries', async () => {
    const sim = await simulator({ revokedKey: true })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2' }))
    expect(run.code).toBe(1)
    expect(sim.requests).toHaveLength(1)
    expect(run.stdout).toMatch(/::error::Clari refused the API key .*revoked.*deactivated/)
  })

  it('403 on a job fails fast and creates nothing more', async () => {
    const sim = await simulator({ forbiddenJobs: true })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2' }))
    expect(run.code).toBe(1)
    expect(sim.requests.filter(r => r.route === 'status')).toHaveLength(1)
    expect(creates(sim)).toBe(1)
    const manifest = await manifestOf(run)
    expect(manifest.periods[0].error).toMatch(/Clari denied access .*no rights/)
    expect(manifest.periods[1].error).toMatch(/^not started: Clari denied access/)
  })
})

describe('downloads', () => {
  it('retries a short download from scratch and keeps only the whole file', async () => {
    const sim = await simulator({ defaults: { queuedSeconds: 0.02, runSeconds: 0.1, rows: 3000 }, faults: [{ kind: 'truncate' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code, run.stdout).toBe(0)
    const job = sim.jobs[0]
    expect(job.served.map(s => s.complete)).toEqual([false, true])
    expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toEqual(sim.content(job.jobId))
    expect(await readdir(run.outputs['output-dir'])).toEqual(['forecast_total_2025_Q1.json', 'manifest.json'])
  })

  it('a JSON export that does not parse is an error for that period, not a silent file', async () => {
    const sim = await simulator({ faults: [{ kind: 'corrupt', period: '2025_Q2' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2' }))
    expect(run.code).toBe(1)
    const manifest = await manifestOf(run)
    expect(manifest.periods[1]).toMatchObject({ status: 'ERROR', file: null })
    expect(manifest.periods[1].error).toMatch(/not valid JSON/)
    expect(await readdir(run.outputs['output-dir'])).toEqual(['forecast_total_2025_Q1.json', 'manifest.json'])
  })

  it('follows a redirect to a storage host without sending it the key', async () => {
    const sim = await simulator({ faults: [{ kind: 'redirect' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code, run.stdout).toBe(0)
    expect(sim.storageRequests).toHaveLength(1)
    expect(sim.storageRequests[0].hadApiKey).toBe(false)
    expect(sim.requests.filter(r => r.route === 'results').every(r => r.hadApiKey)).toBe(true)
    expect(await fileOf(run, 'forecast_total_2025_Q1.json')).toEqual(sim.content(sim.jobs[0].jobId))
  })
})

describe('cancellation and deadline', () => {
  // 2025_Q1 finishes at once; 2025_Q2 runs for a minute, so it is running when the run stops.
  const slowQ2 = { periods: { '2025_Q2': { runSeconds: 60 } } }

  it.each(['SIGINT', 'SIGTERM'] as const)('%s cancels the running job, keeps what finished and says what was left', async name => {
    const sim = await simulator(slowQ2)
    backend = await startArtifactBackend()
    const runP = runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2' }), { env: backend.env, signal: { name, afterMs: 1500 } })
    const run = await runP
    expect(run.code).toBe(1)
    const q2 = sim.jobs.find(j => j.period === '2025_Q2')!
    expect(q2.cancelled).toBe(true)
    expect(sim.requests.some(r => r.method === 'PATCH' && r.path.endsWith(q2.jobId))).toBe(true)
    const manifest = await manifestOf(run)
    expect(manifest.periods.map(p => [p.period, p.status])).toEqual([
      ['2025_Q1', 'DONE'],
      ['2025_Q2', q2.status]
    ])
    expect(['CANCELLED', 'ABORTED']).toContain(q2.status)
    expect(run.stdout).toMatch(/::error::The run was cancelled \(the workflow run was cancelled\)\. Periods not exported: 2025_Q2/)
    expect(Object.keys(backend.artifacts[0].files()).sort()).toEqual(['forecast_total_2025_Q1.json', 'manifest.json'])
  })

  it('timeout cancels the running job, uploads what finished and fails', async () => {
    const sim = await simulator(slowQ2)
    backend = await startArtifactBackend()
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,2025_Q2,2025_Q3', timeout: '1.5' }), { env: backend.env })
    expect(run.code).toBe(1)
    expect(sim.jobs.find(j => j.period === '2025_Q2')!.cancelled).toBe(true)
    expect(jobsByPeriod(sim)).toEqual({ '2025_Q1': 1, '2025_Q2': 1 })
    expect(run.stdout).toMatch(/::error::The run was out of time \(timeout: 1\.5 s\)\. Periods not exported: 2025_Q2, 2025_Q3/)
    const manifest = await manifestOf(run)
    expect(manifest.periods[2]).toMatchObject({ status: 'ERROR', jobId: null })
    expect(Object.keys(backend.artifacts[0].files()).sort()).toEqual(['forecast_total_2025_Q1.json', 'manifest.json'])
  })

  it('a job that runs out of max-attempts is cancelled so it stops holding quota', async () => {
    const sim = await simulator(slowQ2)
    const run = await runAction(simInputs(sim, { periods: '2025_Q2', 'max-attempts': '3', 'max-poll-interval': '0.05' }))
    expect(run.code).toBe(1)
    const job = sim.jobs[0]
    expect(job.cancelled).toBe(true)
    expect(sim.requests.filter(r => r.route === 'status')).toHaveLength(3)
    const [entry] = (await manifestOf(run)).periods
    expect(entry.status).toBe(job.status)
    expect(entry.error).toMatch(/did not finish within 3 status checks \(max-attempts\), so it was cancelled/)
  })
})

describe('re-runs', () => {
  it('fails before any export when the artifact exists and overwrite is off, naming both inputs', async () => {
    const sim = await simulator()
    backend = await startArtifactBackend()
    backend.seed('clari-exports', { 'manifest.json': '{}' })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }), { env: backend.env })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::An artifact named "clari-exports" already exists on this workflow run .*'overwrite: true'.*'artifact-name'/)
    expect(sim.requests).toHaveLength(0)
  })

  it('replaces it with overwrite: true', async () => {
    const sim = await simulator()
    backend = await startArtifactBackend()
    backend.seed('clari-exports', { 'old.json': '[]' })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1', overwrite: 'true' }), { env: backend.env })
    expect(run.code, run.stdout).toBe(0)
    const live = backend.artifacts.filter(a => !a.deleted)
    expect(live).toHaveLength(1)
    expect(Object.keys(live[0].files()).sort()).toEqual(['forecast_total_2025_Q1.json', 'manifest.json'])
    expect(backend.artifacts.filter(a => a.deleted).map(a => a.name)).toEqual(['clari-exports'])
  })
})

describe('secrets', () => {
  it('redacts the key from a Clari error that echoes the request', async () => {
    const sim = await simulator({ faults: [{ kind: 'echo-key', route: 'create' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1' }))
    expect(run.code).toBe(1)
    expect((await manifestOf(run)).periods[0].error).toMatch(/"apikey":"\*\*\*"/)
    await expectNoKey(run, sim.apiKey)
  })

  it('never sends the key anywhere but the API, and leaves no key in any output', async () => {
    const sim = await simulator({ faults: [{ kind: 'redirect' }, { kind: 'status', code: 500, route: 'status' }] })
    const run = await runAction(simInputs(sim, { periods: '2025_Q1,current' }))
    expect(run.code).toBe(0)
    expect(sim.requests.every(r => r.hadApiKey)).toBe(true)
    expect(sim.storageRequests.some(r => r.hadApiKey)).toBe(false)
    await expectNoKey(run, sim.apiKey)
    expect(existsSync(run.outputs.manifest)).toBe(true)
  })
})
