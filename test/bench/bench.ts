// `npm run bench`: wall time, requests and memory of the action on the Clari simulator,
// against the schedule it replaces and against the physical limits of the workload.
// A report, not a test: it exits 0 even when a target fails, and says FAIL loudly.
//
//   npm run bench -- [--scale 0.05] [--rounds 3] [--skip-memory] [--memory-sizes 100,600]
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/server.ts'
import { NODE24, ROOT } from '../support/run-action.ts'
import { bestMakespan, inOrderMakespan, median, runChild } from './measure.ts'
import { runReference } from './reference-client.ts'

const { values: flags } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.05' },
    rounds: { type: 'string', default: '3' },
    'skip-memory': { type: 'boolean', default: false },
    'memory-sizes': { type: 'string', default: '100,600' }
  }
})
const SCALE = Number(flags.scale)
const ROUNDS = Number(flags.rounds)
const MEMORY_SIZES = flags['skip-memory'] ? [] : flags['memory-sizes'].split(',').map(Number)
if (!(SCALE > 0) || !(ROUNDS >= 1) || MEMORY_SIZES.some(n => !(n > 0))) throw new Error('usage: bench.ts [--scale 0.05] [--rounds 3] [--skip-memory] [--memory-sizes 100,600]')

// The workload, in real (unscaled) seconds.
const PERIODS = ['2025_Q1', '2025_Q2', '2025_Q3', '2025_Q4', '2026_Q1', '2026_Q2']
const RUN_S = [25, 35, 45, 55, 60, 65]
const QUEUED_S = 3
const SLOTS = 3
const JOB_S = RUN_S.map(r => QUEUED_S + r)
const SEQUENTIAL_LIMIT = JOB_S.reduce((a, b) => a + b, 0)
const CONCURRENT_LIMIT = bestMakespan(JOB_S, SLOTS)
const IN_ORDER_LIMIT = inOrderMakespan(JOB_S, SLOTS) // jobs created in the order given, as the action does
const FORECAST = 'forecast_total'

type Variant = 'reference' | 'default' | 'auto'
const VARIANTS: Variant[] = ['reference', 'default', 'auto']
const LABEL: Record<Variant, string> = {
  reference: 'reference (sequential, ×1.5 backoff, 10 s pause)',
  default: 'action, default inputs',
  auto: 'action, max-concurrent-jobs: auto'
}

interface JobTrace {
  createdS: number // since the run's first request
  lagS: number // from the job's end to the first status check that saw it
  polls: number
}
interface RunResult {
  wallS: number
  exitWallS?: number // to the child's exit instead of the last download's end
  requests: number
  n429: number
  jobs: JobTrace[]
  failure?: string
}

const secs = (simMs: number): number => simMs / 1000 / SCALE // sim milliseconds → real seconds
const tidy = (n: number): string => String(Number(n.toFixed(6)))

function workloadSim(): SimulatorOptions {
  const periods = Object.fromEntries(PERIODS.map((p, i) => [p, { queuedSeconds: QUEUED_S, runSeconds: RUN_S[i] }]))
  return { timeScale: SCALE, periods, concurrentLimit: SLOTS, monthlyQuota: 100_000 }
}

async function runOnce(variant: Variant): Promise<RunResult> {
  // startSimulator takes its own start time synchronously on entry: t0 is the sim's zero to within a millisecond.
  const t0 = Date.now()
  const sim = await startSimulator(workloadSim())
  try {
    let endAt: number
    let exitAt: number | undefined
    let failure: string | undefined
    if (variant === 'reference') {
      endAt = await runReference({ baseUrl: sim.url, apiKey: sim.apiKey, forecastId: FORECAST, periods: PERIODS, scale: SCALE })
    } else {
      const run = await runChild({
        'api-key': sim.apiKey,
        'forecast-id': FORECAST,
        periods: `${PERIODS[0]}..${PERIODS[PERIODS.length - 1]}`,
        'base-url': sim.url,
        'poll-interval': tidy(5 * SCALE),
        'max-poll-interval': tidy(60 * SCALE),
        'upload-artifact': 'false',
        ...(variant === 'auto' ? { 'max-concurrent-jobs': 'auto' } : {})
      })
      try {
        // The end is when the last period finished its download (its manifest finishedAt), like the
        // reference's; the child's exit (manifest, summary, process teardown) is reported beside it.
        const manifest = run.outputs.manifest && existsSync(run.outputs.manifest) ? JSON.parse(await readFile(run.outputs.manifest, 'utf8')) : undefined
        const periods: { status: string; finishedAt: string }[] = manifest?.periods ?? []
        if (run.code !== 0 || periods.length !== PERIODS.length || periods.some(p => p.status !== 'DONE')) failure = `exit ${run.code}: ${run.tail.slice(-600)}`
        endAt = periods.length ? Math.max(...periods.map(p => Date.parse(p.finishedAt))) : run.exitAt
        exitAt = run.exitAt
      } finally {
        await run.cleanup()
      }
    }
    const first = sim.requests[0].at
    return {
      wallS: secs(endAt - t0 - first),
      exitWallS: exitAt === undefined ? undefined : secs(exitAt - t0 - first),
      requests: sim.requests.length,
      n429: sim.requests.filter(r => r.status === 429).length,
      jobs: traceJobs(sim, t0, first),
      failure
    }
  } finally {
    await sim.close()
  }
}

/** Per period: when its job was created, and how long after it ended a status check first saw it. */
function traceJobs(sim: Simulator, t0: number, first: number): JobTrace[] {
  return PERIODS.map((period, i) => {
    const job = sim.jobs.find(j => j.period === period)
    if (!job) return { createdS: NaN, lagS: NaN, polls: 0 }
    const created = job.createdAt - t0
    const ended = created + JOB_S[i] * 1000 * SCALE
    const checks = sim.requests.filter(r => r.route === 'status' && r.path === `/export/jobs/${job.jobId}`)
    const seen = checks.find(r => r.at >= ended)
    return { createdS: secs(created - first), lagS: seen ? secs(seen.at - ended) : NaN, polls: checks.length }
  })
}

interface MemoryResult {
  mb: number
  peakMb: number
  fileBytes: number
  servedBytes: number
  seconds: number
  ok: boolean
  note: string
}

async function memoryRun(mb: number): Promise<MemoryResult> {
  const resultBytes = mb * 1e6
  const t0 = Date.now()
  const sim = await startSimulator({ periods: { '2025_Q1': { queuedSeconds: 0, runSeconds: 0.2, resultBytes } } })
  try {
    const run = await runChild(
      { 'api-key': sim.apiKey, 'forecast-id': FORECAST, periods: '2025_Q1', 'base-url': sim.url, 'poll-interval': '0.1', 'max-poll-interval': '1', 'upload-artifact': 'false' },
      { sampleRss: true }
    )
    try {
      const file = path.join(run.outputs['output-dir'] ?? '', `${FORECAST}_2025_Q1.json`)
      const fileBytes = existsSync(file) ? statSync(file).size : 0
      const served = sim.jobs[0]?.served.at(-1)
      const servedBytes = served?.complete ? served.bytes : 0
      // The simulator emits whole rows until it reaches resultBytes, so the file is that or a row more.
      const ok = run.code === 0 && fileBytes === servedBytes && fileBytes >= resultBytes && fileBytes < resultBytes + 10_000
      return {
        mb,
        peakMb: ((run.peakRssKb ?? NaN) * 1024) / 1e6,
        fileBytes,
        servedBytes,
        seconds: (run.exitAt - t0 - sim.requests[0].at) / 1000,
        ok,
        note: ok ? '' : `exit ${run.code}: ${run.tail.slice(-400)}`
      }
    } finally {
      await run.cleanup() // deletes the export: hundreds of MB
    }
  } finally {
    await sim.close()
  }
}

// ---- run everything ----
const started = Date.now()
const childNode = execFileSync(NODE24, ['--version'], { encoding: 'utf8' }).trim()
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')
console.log(`clari-export benchmark: SCALE ${SCALE}, ${ROUNDS} round(s), ${MEMORY_SIZES.length ? `memory ${MEMORY_SIZES.join(', ')} MB` : 'memory skipped'}\n`)

const results: Record<Variant, RunResult[]> = { reference: [], default: [], auto: [] }
for (let round = 1; round <= ROUNDS; round++) {
  // Alternating rounds, a fresh simulator each run, so drift on the machine hits every variant alike.
  for (const v of VARIANTS) {
    const r = await runOnce(v)
    results[v].push(r)
    const exit = r.exitWallS === undefined ? '' : ` (to exit ${r.exitWallS.toFixed(1)} s)`
    console.log(`round ${round} ${v.padEnd(9)} ${r.wallS.toFixed(1).padStart(6)} s${exit}, ${r.requests} requests, ${r.n429} × 429${r.failure ? `  FAILED: ${r.failure}` : ''}`)
  }
}
const memory: MemoryResult[] = []
for (const mb of MEMORY_SIZES) {
  const m = await memoryRun(mb)
  memory.push(m)
  console.log(`memory ${mb} MB: peak RSS ${m.peakMb.toFixed(1)} MB, ${m.seconds.toFixed(1)} s${m.ok ? '' : `  FAILED: ${m.note}`}`)
}

// ---- report ----
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–')
const verdict = (ok: boolean): string => (ok ? 'PASS' : '**FAIL**')
const wall = (v: Variant): number => median(results[v].map(r => r.wallS))
const reqs = (v: Variant): number => median(results[v].map(r => r.requests))
const limitOf = (v: Variant): number => (v === 'auto' ? CONCURRENT_LIMIT : SEQUENTIAL_LIMIT)
const out: string[] = []
out.push('# clari-export benchmark', '')
out.push(`- Date: ${new Date().toISOString()}`)
out.push(`- Machine: ${availableParallelism()} CPUs (nproc), action on Node ${childNode} (${path.relative(ROOT, NODE24)}), bench on Node ${process.version}`)
out.push(`- SCALE: ${SCALE} (every duration × ${SCALE}; times below are converted back to real seconds), rounds: ${ROUNDS}`)
out.push(`- Command: \`${command}\``)
out.push(
  `- Workload: ${PERIODS.length} periods ${PERIODS[0]}..${PERIODS[PERIODS.length - 1]}, jobs queued ${QUEUED_S} s then running ${RUN_S.join(', ')} s; concurrent limit ${SLOTS}, generous quota, no faults. ` +
    `Action inputs: poll-interval ${tidy(5 * SCALE)}, max-poll-interval ${tidy(60 * SCALE)}, delay 0, upload-artifact false.`
)
out.push(
  `- Physical limits: sequential ${SEQUENTIAL_LIMIT} s (sum of the jobs' own times); ${SLOTS} slots ${CONCURRENT_LIMIT} s (best assignment, brute force); ` +
    `${IN_ORDER_LIMIT} s when jobs start in the order given (FIFO, as the action creates them).`
)
out.push(
  `- Wall time: from the run's first request to the end of its last results download, on the simulator's timeline (process start-up excluded); for the action, "to exit" adds manifest, summary and process exit.`
)
out.push('')
out.push('| Variant | Wall s (median) | min–max | to exit s | Requests (median) | 429s (all rounds) | × reference | × physical limit |')
out.push('|---|---:|---:|---:|---:|---:|---:|---:|')
for (const v of VARIANTS) {
  const rs = results[v]
  const ws = rs.map(r => r.wallS)
  const exit = v === 'reference' ? '–' : fmt(median(rs.map(r => r.exitWallS ?? NaN)))
  const limitName = v === 'auto' ? `${CONCURRENT_LIMIT} s` : `${SEQUENTIAL_LIMIT} s`
  out.push(
    `| ${LABEL[v]} | ${fmt(wall(v))} | ${fmt(Math.min(...ws))}–${fmt(Math.max(...ws))} | ${exit} | ${reqs(v)} | ${rs.reduce((a, r) => a + r.n429, 0)} | ${fmt(wall(v) / wall('reference'), 2)} | ${fmt(wall(v) / limitOf(v), 2)} (of ${limitName}) |`
  )
}
const failures = VARIANTS.flatMap(v => results[v].filter(r => r.failure).map(r => `${v}: ${r.failure}`))
if (failures.length) out.push('', `**${failures.length} run(s) did not export every period:**`, ...failures.map(f => `- ${f.replace(/\s+/g, ' ')}`))

out.push('', `## Where the time goes (medians over rounds, real seconds)`, '')
out.push("Created: when the job was created, since the run's first request. Lag: from the job's end to the first status check that saw it. Polls: status checks of that job.", '')
out.push(`| Period | job s | ${VARIANTS.map(v => `${v} created / lag / polls`).join(' | ')} |`)
out.push(`|---|---:|${VARIANTS.map(() => '---:').join('|')}|`)
PERIODS.forEach((p, i) => {
  const cells = VARIANTS.map(v => {
    const js = results[v].map(r => r.jobs[i])
    return `${fmt(median(js.map(j => j.createdS)))} / ${fmt(median(js.map(j => j.lagS)))} / ${median(js.map(j => j.polls))}`
  })
  out.push(`| ${p} | ${JOB_S[i]} | ${cells.join(' | ')} |`)
})
const lagSum = (v: Variant): number => median(results[v].map(r => r.jobs.reduce((a, j) => a + j.lagS, 0)))
out.push('', `Sum of detection lags per run: ${VARIANTS.map(v => `${v} ${fmt(lagSum(v))} s`).join(', ')}.`)

if (memory.length) {
  out.push('', '## Memory: one large JSON export', '', "Peak RSS is the child's VmHWM (/proc/<pid>/status), sampled every 50 ms, last value before exit. MB = 10^6 bytes.", '')
  out.push('| Result size | Peak RSS | File on disk (bytes) | Served (bytes) | Time s | Check |')
  out.push('|---:|---:|---:|---:|---:|---|')
  for (const m of memory)
    out.push(`| ${m.mb} MB | ${fmt(m.peakMb)} MB | ${m.fileBytes} | ${m.servedBytes} | ${fmt(m.seconds)} | ${m.ok ? 'size matches' : `**FAIL** ${m.note.replace(/\s+/g, ' ')}`} |`)
  if (memory.length > 1) {
    const a = memory[0]
    const b = memory[memory.length - 1]
    out.push('', `Peak RSS from ${a.mb} MB to ${b.mb} MB: ${b.peakMb - a.peakMb >= 0 ? '+' : ''}${fmt(b.peakMb - a.peakMb)} MB for ${b.mb - a.mb} MB more data.`)
  }
}

out.push('', '## Targets', '')
const ref = wall('reference')
const dWall = wall('default') <= 0.75 * ref
const dReq = reqs('default') <= reqs('reference')
out.push(
  `- default: wall ≤ 0.75 × reference (${fmt(wall('default'))} ≤ ${fmt(0.75 * ref)} s) ${verdict(dWall)}; requests ≤ reference's (${reqs('default')} ≤ ${reqs('reference')}) ${verdict(dReq)} → ${verdict(dWall && dReq)}`
)
const aRef = wall('auto') <= 0.35 * ref
const aLim = wall('auto') <= 1.25 * CONCURRENT_LIMIT
out.push(
  `- auto: wall ≤ 0.35 × reference (${fmt(wall('auto'))} ≤ ${fmt(0.35 * ref)} s) ${verdict(aRef)}; wall ≤ 1.25 × ${SLOTS}-slot limit (${fmt(wall('auto'))} ≤ ${fmt(1.25 * CONCURRENT_LIMIT)} s) ${verdict(aLim)} → ${verdict(aRef && aLim)}`
)
if (memory.length) {
  const big = memory.filter(m => m.mb >= 500)
  const memOk = big.length > 0 && big.every(m => m.ok && m.peakMb < 150)
  out.push(`- memory: peak RSS < 150 MB at ≥ 500 MB (${big.length ? big.map(m => `${fmt(m.peakMb)} MB at ${m.mb} MB`).join(', ') : 'no size ≥ 500 MB measured'}) ${verdict(memOk)}`)
}
if (failures.length) out.push(`- every run exported every period: ${verdict(false)}`)
out.push('', `Total bench time: ${fmt((Date.now() - started) / 1000)} s.`)

// Prettier aligns the tables (easier to read here) and keeps results.md clean for format checks.
const resultsFile = path.join(ROOT, 'test/bench/results.md')
const prettier = await import('prettier')
const report = await prettier.format(out.join('\n') + '\n', { ...(await prettier.resolveConfig(resultsFile)), filepath: resultsFile })
console.log('\n' + report)
await writeFile(resultsFile, report)
console.log(`Written to ${path.relative(process.cwd(), resultsFile)}`)
