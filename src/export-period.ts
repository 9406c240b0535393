// One period, start to finish: take a job slot, create the job (once), poll it to a
// terminal status, free the slot, then download the result whole into the output folder.
import * as path from 'node:path'
import { TERMINAL_STATUSES, type ExportJob } from './clari-client.ts'
import { createJob } from './create-job.ts'
import { saveResults } from './download.ts'
import { Aborted, ClariError, messageOf } from './errors.ts'
import { quarterInFileName } from './job-match.ts'
import type { PeriodContext } from './period-context.ts'
import { emptyResult, type FinalStatus, type PeriodResult } from './period-result.ts'
import { CURRENT } from './periods.ts'

/** Downloads tried from scratch before a period gives up on a finished job. */
export const MAX_DOWNLOAD_ATTEMPTS = 3

export function exportFileName(forecastId: string, period: string, format: 'JSON' | 'CSV'): string {
  return `${forecastId}_${period}.${format.toLowerCase()}`
}

export async function exportPeriod(ctx: PeriodContext, period: string): Promise<PeriodResult> {
  const { clock, signal, run, config } = ctx
  const result = emptyResult(period)
  let slotHeld = await ctx.slots.acquire(signal)
  const releaseSlot = (): void => {
    if (!slotHeld) return
    slotHeld = false
    // `delay` holds the slot a little longer, so the next job starts that much later.
    if (config.delayMs > 0) void clock.sleep(config.delayMs, signal).then(() => ctx.slots.release())
    else ctx.slots.release()
  }
  try {
    if (!slotHeld) throw new Aborted()
    if (run.stopReason) {
      result.error = `not started: ${run.stopReason.message}`
      return result
    }
    result.startedAt = new Date(clock.now()).toISOString()
    ctx.event(period, 'creating the export job')
    const createdAt = clock.now()
    const jobId = await createJob(ctx, period)
    result.jobId = jobId
    run.inFlight.set(jobId, period)
    ctx.event(period, `job ${jobId} created`)
    const job = await pollUntilTerminal(ctx, period, jobId, createdAt, result)
    run.inFlight.delete(jobId)
    releaseSlot()
    if (job.status !== 'DONE') {
      result.status = job.status as FinalStatus
      throw new ClariError(
        'export',
        `Clari reported the job ${job.status}${job.status === 'FAILED' ? ' (Clari could not build the export; with schedule ONCE or MAX Clari retries it itself 30 minutes later)' : ''}`
      )
    }
    result.quarter = period === CURRENT ? quarterInFileName(job.fileName, config.forecastId) : period
    await download(ctx, period, jobId, result)
    result.status = 'DONE'
  } catch (e) {
    if (e instanceof Aborted || signal.aborted) {
      result.error = result.startedAt
        ? 'the run was cut short (cancelled or out of time) before this export finished'
        : 'not started: the run was cut short (cancelled or out of time)'
    } else {
      result.error = messageOf(e)
      // Failures that every other period would meet too stop the run from creating more jobs.
      if (e instanceof ClariError && (e.kind === 'auth' || e.kind === 'unreachable' || (e.kind === 'rejected' && e.runWide))) run.stopReason = e
      // A job this period gives up on must not keep holding a slot and quota.
      if (result.jobId && run.inFlight.has(result.jobId)) {
        const status = await cancelJob(ctx, period, result.jobId)
        if (status) result.status = status
        run.inFlight.delete(result.jobId)
      }
    }
    ctx.event(period, `failed: ${result.error}`)
  } finally {
    releaseSlot()
    result.finishedAt = new Date(clock.now()).toISOString()
  }
  return result
}

async function pollUntilTerminal(ctx: PeriodContext, period: string, jobId: string, createdAt: number, result: PeriodResult): Promise<ExportJob> {
  const { clock, signal, config, planner } = ctx
  const seconds = (ms: number): string => (ms / 1000).toFixed(1)
  let lastStatus = ''
  // Clari says when a job was queued and when it ended, not when it started running:
  // estimate that as the middle of the gap between the last SCHEDULED and first STARTED seen.
  let lastQueuedSeenAt = createdAt
  let runningFrom: number | undefined
  let delay = planner.nextDelayMs(0, 0)
  ctx.log(period, `first status check in ${seconds(delay)} s`)
  while (result.polls < config.maxAttempts) {
    await clock.sleep(delay, signal)
    if (signal.aborted) throw new Aborted()
    result.polls++
    let job: ExportJob | undefined
    try {
      job = await ctx.client.getJob(jobId)
    } catch (e) {
      // A status call that failed (after its own retries) costs one attempt, not the export;
      // only a refused key or job access ends the polling.
      if (!(e instanceof ClariError) || e.kind === 'auth') throw e
      ctx.log(period, `status check ${result.polls} failed: ${e.message}`)
    }
    const age = clock.now() - createdAt
    if (job && TERMINAL_STATUSES.includes(job.status)) {
      ctx.event(period, `${job.status} after ${seconds(age)} s (status check ${result.polls})`)
      const total = job.endTime && job.startTime ? job.endTime - job.startTime : age
      if (job.status === 'DONE') planner.recordDuration(total)
      const queued = runningFrom === undefined ? undefined : Math.min(total, runningFrom - createdAt)
      result.queuedSeconds = queued === undefined ? null : round(queued / 1000)
      result.runSeconds = round((total - (queued ?? 0)) / 1000)
      return job
    }
    delay = planner.nextDelayMs(age, result.polls)
    if (job?.status === 'SCHEDULED') lastQueuedSeenAt = clock.now()
    if (job?.status === 'STARTED' && runningFrom === undefined) runningFrom = (lastQueuedSeenAt + clock.now()) / 2
    const line = `${job?.status ?? 'unknown'} after ${seconds(age)} s (status check ${result.polls}); next check in ${seconds(delay)} s`
    if (job && job.status !== lastStatus) ctx.event(period, line)
    else ctx.log(period, line)
    if (job) lastStatus = job.status
  }
  // Out of attempts: cancel, so an abandoned job does not hold a slot and quota.
  const status = await cancelJob(ctx, period, jobId)
  ctx.run.inFlight.delete(jobId)
  if (status) result.status = status
  throw new ClariError(
    'export',
    `the job did not finish within ${config.maxAttempts} status checks (max-attempts), so it was cancelled to give its quota back. For longer jobs raise max-attempts or max-poll-interval.`
  )
}

/**
 * Cancels a job; returns its status afterwards (CANCELLED or ABORTED, or the terminal
 * status it reached just before the cancel), or undefined if the cancel failed.
 */
export async function cancelJob(ctx: Pick<PeriodContext, 'client' | 'log'>, period: string, jobId: string): Promise<FinalStatus | undefined> {
  try {
    const status = await ctx.client.cancelJob(jobId)
    ctx.log(period, `cancelled job ${jobId}: ${status ?? 'no status in the answer'}`)
    if (status === 'CANCELLED' || status === 'ABORTED') return status
  } catch (e) {
    ctx.log(period, `could not cancel job ${jobId}: ${messageOf(e)}`)
    // Clari refuses (400) to cancel a job that has just finished; anything else is a failed cancel.
    if (!(e instanceof ClariError) || e.kind !== 'rejected') return undefined
  }
  // The answer did not say, or the job had just finished: ask the job itself.
  try {
    const job = await ctx.client.getJob(jobId)
    return TERMINAL_STATUSES.includes(job.status) ? (job.status as FinalStatus) : undefined
  } catch {
    return undefined
  }
}

async function download(ctx: PeriodContext, period: string, jobId: string, result: PeriodResult): Promise<void> {
  const { config } = ctx
  const file = exportFileName(config.forecastId, period, config.exportFormat)
  const dest = path.join(config.outputDir, file)
  for (let attempt = 1; ; attempt++) {
    try {
      ctx.event(period, `downloading the results${attempt > 1 ? ` (attempt ${attempt} of ${MAX_DOWNLOAD_ATTEMPTS})` : ''}`)
      const body = await ctx.client.openResults(jobId)
      const saved = await saveResults(body, dest, config.exportFormat, ctx.signal)
      result.file = file
      result.bytes = saved.bytes
      result.rows = saved.rows
      result.sha256 = saved.sha256
      ctx.event(period, `saved ${file} (${saved.bytes} bytes${saved.rows === null ? '' : `, ${saved.rows} rows`})`)
      return
    } catch (e) {
      // Anything but a refused key or bad content may pass on a fresh try (the job is DONE).
      const retryable = e instanceof ClariError && e.kind !== 'auth' && e.kind !== 'export'
      if (!retryable || attempt >= MAX_DOWNLOAD_ATTEMPTS || ctx.signal.aborted) throw e
      ctx.log(period, `download attempt ${attempt} failed: ${messageOf(e)}; starting again from scratch`)
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}
