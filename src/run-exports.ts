// The whole run: check the limits, export every period (up to N jobs at once), and when
// the run is cut short (signal or timeout) cancel every job still running in Clari.
import { mkdir } from 'node:fs/promises'
import type { ClariClient, Limits } from './clari-client.ts'
import type { Clock } from './clock.ts'
import { ClariError, messageOf } from './errors.ts'
import { cancelJob, exportPeriod } from './export-period.ts'
import type { Config } from './inputs.ts'
import type { PeriodContext } from './period-context.ts'
import type { PeriodResult } from './period-result.ts'
import { PollPlanner } from './poll-planner.ts'
import { RunState } from './run-state.ts'
import { Slots } from './slots.ts'

export interface RunDeps {
  config: Config
  client: ClariClient
  /** Used after the run was cut short: its own signal, so cancels still go out. */
  cleanupClient: ClariClient
  clock: Clock
  signal: AbortSignal
  random: () => number
  log: (period: string, message: string) => void
  event: (period: string, message: string) => void
  info: (message: string) => void
  warn: (message: string) => void
}

export interface RunOutcome {
  results: PeriodResult[]
  concurrency: number
  /** A failure that stopped the run as a whole (auth, quota before start). */
  fatal?: ClariError
}

export async function runExports(deps: RunDeps): Promise<RunOutcome> {
  const { config, client, signal } = deps
  await mkdir(config.outputDir, { recursive: true })
  const limits = await readLimits(deps)
  if (limits && limits.availableMonthlyQuota < config.periods.length) {
    const fatal = new ClariError(
      'quota',
      `Clari's monthly export quota has ${limits.availableMonthlyQuota} exports left (of ${limits.monthlyQuota}), fewer than the ${config.periods.length} periods asked for; nothing was created. Export fewer periods, or ask Clari support to raise the quota.`
    )
    return { results: [], concurrency: 0, fatal }
  }
  const concurrency = chooseConcurrency(config, limits, deps.warn)
  deps.info(`Exporting ${config.periods.length} period(s) of forecast ${config.forecastId}, ${concurrency === 1 ? 'one job at a time' : `up to ${concurrency} jobs at once`}`)

  const run = new RunState()
  const ctx: PeriodContext = {
    config,
    client,
    clock: deps.clock,
    planner: new PollPlanner({ pollIntervalMs: config.pollIntervalMs, maxPollIntervalMs: config.maxPollIntervalMs, random: deps.random }),
    slots: new Slots(concurrency),
    run,
    signal,
    random: deps.random,
    log: deps.log,
    event: deps.event
  }
  // Every period starts at once and queues for a slot, in order.
  const results = await Promise.all(config.periods.map(p => exportPeriod(ctx, p)))

  if (signal.aborted && run.inFlight.size > 0) await cancelInFlight(deps, run, results)
  return { results, concurrency, fatal: run.stopReason }
}

async function readLimits(deps: RunDeps): Promise<Limits | undefined> {
  try {
    const limits = await deps.client.getLimits()
    deps.info(
      `Clari limits: ${limits.availableConcurrentLimit} of ${limits.concurrentLimit} concurrent job slots free, ${limits.availableMonthlyQuota} of ${limits.monthlyQuota} monthly exports left`
    )
    return limits
  } catch (e) {
    if (e instanceof ClariError && e.kind === 'auth') throw e
    deps.warn(`Could not read Clari's /admin/limits (${messageOf(e)}); going on without the quota check`)
    return undefined
  }
}

function chooseConcurrency(config: Config, limits: Limits | undefined, warn: (m: string) => void): number {
  const n = Math.min(config.maxConcurrentJobs === 'auto' ? (limits?.availableConcurrentLimit ?? 1) : config.maxConcurrentJobs, config.periods.length)
  if (config.maxConcurrentJobs !== 'auto' && limits && n > limits.concurrentLimit) {
    warn(`max-concurrent-jobs is ${n} but the org's concurrent limit is ${limits.concurrentLimit}; jobs will wait for free slots`)
  }
  return Math.max(1, n)
}

async function cancelInFlight(deps: RunDeps, run: RunState, results: PeriodResult[]): Promise<void> {
  await Promise.all(
    [...run.inFlight].map(async ([jobId, period]) => {
      const status = await cancelJob({ client: deps.cleanupClient, log: deps.log }, period, jobId)
      const result = results.find(r => r.period === period)
      if (result && status) result.status = status
      deps.event(period, status ? `job ${jobId} cancelled (${status})` : `job ${jobId} could not be cancelled; cancel it in Clari to free its slot`)
    })
  )
  run.inFlight.clear()
}
