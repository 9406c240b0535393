// The whole run: check the limits, export every period (up to N jobs at once), and when
// the run is cut short (signal or timeout) cancel every job still running in Clari.
import type { ClariClient, Limits } from './clari-client.ts'
import type { Clock } from './clock.ts'
import { ClariError, messageOf } from './errors.ts'
import { cancelJob, exportPeriod } from './export-period.ts'
import type { Config } from './inputs.ts'
import { jobsMadeBy } from './job-match.ts'
import type { PeriodContext } from './period-context.ts'
import type { FinalStatus, PeriodResult } from './period-result.ts'
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
  /** Jobs left queued or running in Clari because their cancel failed. */
  uncancelled?: { period: string; jobId: string }[]
}

export async function runExports(deps: RunDeps): Promise<RunOutcome> {
  const { config, client, signal } = deps
  const limits = await readLimits(deps)
  const left = limits?.availableMonthlyQuota
  if (left !== undefined && left < config.periods.length) {
    const fatal = new ClariError(
      'quota',
      `Clari's monthly export quota has ${left} exports left (of ${limits?.monthlyQuota ?? 'an unknown quota'}), fewer than the ${config.periods.length} periods asked for; nothing was created. Export fewer periods, or ask Clari support to raise the quota.`
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
  // Cut short: cancel at once what runs in Clari, while the periods wind down.
  const cleanup = new Cleanup(deps, run)
  const onAbort = (): void => cleanup.start()
  signal.addEventListener('abort', onAbort, { once: true })
  // Every period starts at once and queues for a slot, in order.
  const results = await Promise.all(config.periods.map(p => exportPeriod(ctx, p)))
  signal.removeEventListener('abort', onAbort)
  const uncancelled: { period: string; jobId: string }[] = []
  for (const [period, c] of await cleanup.finish()) {
    const r = results.find(x => x.period === period)
    if (!r) continue
    r.jobId ??= c.jobId
    if (c.status === 'DONE') r.error = `job ${c.jobId} finished in Clari just as the run was cut short; its result was not downloaded (re-run to fetch it)`
    else if (c.status) r.status = c.status
    else uncancelled.push({ period, jobId: c.jobId })
  }
  uncancelled.push(...cleanup.unsure)
  return { results, concurrency, fatal: run.stopReason, uncancelled }
}

async function readLimits(deps: RunDeps): Promise<Limits | undefined> {
  try {
    const limits = await deps.client.getLimits()
    deps.info(
      `Clari limits: ${limits.availableConcurrentLimit} of ${limits.concurrentLimit} concurrent job slots free, ${limits.availableMonthlyQuota} of ${limits.monthlyQuota} monthly exports left`
    )
    return limits
  } catch (e) {
    // A bad key stops everything; without rights on /admin/limits the exports may still work.
    if (e instanceof ClariError && ((e.kind === 'auth' && e.status === 401) || e.kind === 'unreachable')) throw e
    deps.warn(`Could not read Clari's /admin/limits (${messageOf(e)}); going on without the quota check`)
    return undefined
  }
}

function chooseConcurrency(config: Config, limits: Limits | undefined, warn: (m: string) => void): number {
  const n = Math.min(config.maxConcurrentJobs === 'auto' ? (limits?.availableConcurrentLimit ?? 1) : config.maxConcurrentJobs, config.periods.length)
  if (config.maxConcurrentJobs !== 'auto' && limits?.concurrentLimit !== undefined && n > limits.concurrentLimit) {
    warn(`max-concurrent-jobs is ${config.maxConcurrentJobs} but the org's concurrent limit is ${limits.concurrentLimit}; jobs beyond it will wait for free slots`)
  }
  return Math.max(1, n)
}

interface Cancelled {
  jobId: string
  /** Clari's status after the cancel, or undefined when it failed. */
  status: FinalStatus | undefined
}

/**
 * Cancels every job of this run still queued or running in Clari when the run is cut
 * short, so none holds a slot or quota: the jobs in flight, the jobs of create calls that
 * were still out (found in Clari's job list), and, once the periods have wound down, any
 * job whose create answer arrived after the cut.
 */
class Cleanup {
  private readonly deps: RunDeps
  private readonly run: RunState
  private readonly done = new Map<string, Cancelled>()
  private started: Promise<void> | undefined
  /** Jobs that may be ours but could not be told apart from others': not cancelled, reported. */
  readonly unsure: { period: string; jobId: string }[] = []

  constructor(deps: RunDeps, run: RunState) {
    this.deps = deps
    this.run = run
  }

  start(): void {
    this.started ??= this.sweep(true)
  }

  /** Waits for the cleanup (if the run was cut short) and cancels late arrivals. */
  async finish(): Promise<Map<string, Cancelled>> {
    if (!this.started) return this.done
    await this.started
    await this.sweep(false)
    return this.done
  }

  private async sweep(withPending: boolean): Promise<void> {
    const handled = new Set([...this.done.values()].map(c => c.jobId))
    const targets = [...this.run.inFlight].filter(([jobId]) => !handled.has(jobId)).map(([jobId, period]) => ({ jobId, period }))
    if (withPending) targets.push(...(await this.pendingJobs()))
    await Promise.all(targets.map(t => this.cancel(t.jobId, t.period)))
  }

  private async pendingJobs(): Promise<{ jobId: string; period: string }[]> {
    const { deps, run } = this
    if (run.pendingCreates.size === 0) return []
    const found: { jobId: string; period: string }[] = []
    try {
      const jobs = await deps.cleanupClient.listJobs()
      for (const [period, { since, before }] of run.pendingCreates) {
        const attempt = { forecastId: deps.config.forecastId, period, format: deps.config.exportFormat, since, before }
        const made = jobsMadeBy(jobs, attempt, { claimed: run.claimed, explicitPeriods: deps.config.periods })
        if (made.length === 1) found.push({ jobId: made[0].jobId, period })
        else for (const j of made) this.unsure.push({ period, jobId: j.jobId })
      }
    } catch (e) {
      deps.warn(`Could not read Clari's job list to find jobs whose create call was cut short (${messageOf(e)})`)
      for (const period of run.pendingCreates.keys()) this.unsure.push({ period, jobId: 'unknown (the job list could not be read)' })
    }
    return found
  }

  private async cancel(jobId: string, period: string): Promise<void> {
    const status = await cancelJob({ client: this.deps.cleanupClient, log: this.deps.log }, period, jobId)
    this.done.set(period, { jobId, status })
    const what =
      status === 'CANCELLED' || status === 'ABORTED'
        ? `cancelled (${status})`
        : status
          ? `had already ended (${status})`
          : 'could not be cancelled; cancel it in Clari to free its slot'
    this.deps.event(period, `job ${jobId} ${what}`)
  }
}
