// Creates the Clari job for one period, exactly once. The create call is not idempotent:
// when its answer is lost we look for the job in Clari's list before creating again.
// A 400 may mean a full concurrent limit (wait for a slot) or an exhausted quota (stop).
import { fullJitterBackoffMs } from './backoff.ts'
import type { CreateExportBody, ExportJob } from './clari-client.ts'
import { ClariError, messageOf } from './errors.ts'
import type { PeriodContext } from './period-context.ts'
import { CURRENT } from './periods.ts'

/** Lost create answers tolerated for one period before giving up. */
export const MAX_LOST_CREATES = 3
/** Clari's clock and ours may disagree by this much when matching a job to an attempt. */
export const CLOCK_SKEW_MS = 60_000

export async function createJob(ctx: PeriodContext, period: string): Promise<string> {
  const { client, config, clock, signal, run } = ctx
  let lostAnswers = 0
  let limitWaits = 0
  for (;;) {
    if (run.stopReason) throw run.stopReason
    const attemptStart = clock.now()
    try {
      const jobId = await client.createExport(config.forecastId, requestBody(ctx, period))
      run.claimed.add(jobId)
      return jobId
    } catch (e) {
      if (!(e instanceof ClariError)) throw e
      if (e.kind === 'transient' || e.kind === 'lost') {
        ctx.log(period, `the answer to the create call was lost (${e.message}); looking for the job in Clari's job list before creating again`)
        const adopted = await findCreatedJob(ctx, period, attemptStart)
        if (adopted) {
          run.claimed.add(adopted.jobId)
          ctx.log(period, `found job ${adopted.jobId} (${adopted.fileName}) made by the lost call; using it instead of creating another`)
          return adopted.jobId
        }
        if (++lostAnswers > MAX_LOST_CREATES) {
          throw new ClariError('lost', `creating the export failed ${lostAnswers} times and Clari's job list shows no job for it: ${e.message}`)
        }
        ctx.log(period, 'no job was made; creating it again')
        await clock.sleep(fullJitterBackoffMs(lostAnswers, config.pollIntervalMs, config.maxPollIntervalMs, ctx.random), signal)
        continue
      }
      if (e.kind === 'rejected' && e.status === 400) {
        const wait = await limitVerdict(ctx, e)
        if (++limitWaits > config.maxAttempts) {
          throw new ClariError(
            'rejected',
            `Clari's concurrent job limit stayed full through ${config.maxAttempts} checks (max-attempts): ${e.message}. Other jobs in your org hold every slot; run this later or raise max-attempts.`,
            400
          )
        }
        ctx.log(period, `Clari's concurrent job limit is full (${wait}); waiting for a slot`)
        await clock.sleep(fullJitterBackoffMs(Math.min(limitWaits, 6), config.pollIntervalMs, config.maxPollIntervalMs, ctx.random), signal)
        continue
      }
      throw e
    }
  }
}

function requestBody(ctx: PeriodContext, period: string): CreateExportBody {
  const c = ctx.config
  const body: CreateExportBody = {
    typesToExport: c.typesToExport,
    exportFormat: c.exportFormat,
    schedule: c.schedule,
    includeHistorical: c.includeHistorical
  }
  if (period !== CURRENT) body.timePeriod = period
  if (c.currency) body.currency = c.currency
  if (c.scopeId) body.scopeId = c.scopeId
  return body
}

/**
 * A 400 from create does not say why: ask /admin/limits. Returns a description of the
 * full concurrent limit (worth waiting for), or throws the right error for anything else.
 */
async function limitVerdict(ctx: PeriodContext, rejection: ClariError): Promise<string> {
  let limits
  try {
    limits = await ctx.client.getLimits()
  } catch (e) {
    throw new ClariError('rejected', `${rejection.message} (and /admin/limits could not be read to tell why: ${messageOf(e)})`, 400, rejection.code)
  }
  if (limits.availableMonthlyQuota <= 0) {
    const quota = new ClariError(
      'quota',
      `Clari's monthly export quota is used up (${limits.monthlyQuota - limits.availableMonthlyQuota} of ${limits.monthlyQuota} used in the last 30 days, ${limits.availableMonthlyQuota} left), so no more jobs can be created. Exports that finished are kept; ask Clari support to raise the quota or run again when it frees up.`,
      400,
      rejection.code
    )
    ctx.run.stopReason = quota
    throw quota
  }
  if (limits.availableConcurrentLimit <= 0) {
    return `${limits.concurrentLimit - limits.availableConcurrentLimit} of ${limits.concurrentLimit} slots in use`
  }
  // The limits look free now; if Clari's message was about limits, a slot has just freed.
  if (/quota|concurrent|limit/i.test(rejection.message)) return 'a slot has just freed'
  throw new ClariError('rejected', `${rejection.message}. ${fixFor(rejection)}`, 400, rejection.code)
}

function fixFor(e: ClariError): string {
  const text = `${e.code ?? ''} ${e.message}`
  if (/no_such_forecast|forecast.*(not exist|does not)/i.test(text)) return "Check the 'forecast-id' input: use the forecast tab id from the Clari URL."
  if (/type/i.test(text)) return "Check the 'types-to-export' input: Clari's export API does not accept every type (crm_total and crm_closed are refused)."
  if (/currency/i.test(text)) return "Check the 'currency' input: use a currency code your Clari org supports, or leave it empty."
  if (/scope|optin/i.test(text)) return "Check the 'scope-id' input and the token user's place in the forecast hierarchy."
  return "Check the 'forecast-id', 'types-to-export', 'currency' and 'scope-id' inputs."
}

/** The job a lost create call made, if Clari's list shows one. */
async function findCreatedJob(ctx: PeriodContext, period: string, attemptStart: number): Promise<ExportJob | undefined> {
  let jobs: ExportJob[]
  try {
    jobs = await ctx.client.listJobs()
  } catch (e) {
    // Creating blindly could run the export twice and burn quota; better to stop here.
    throw new ClariError(
      'lost',
      `the create call's answer was lost and Clari's job list could not be read to check whether the job exists (${messageOf(e)}). Check the export jobs in Clari before running again, so the export does not run twice.`
    )
  }
  // Clari's file names embed "<forecastId>_<period>", e.g. clari_export_forecast_2021_Q1_20210415_015255.json.
  const periodPattern = period === CURRENT ? '\\d{4}_Q[1-4]' : escapeRegExp(period)
  const pattern = new RegExp(`(^|_)${escapeRegExp(ctx.config.forecastId)}_${periodPattern}`)
  const matches = (fileName: string): boolean => pattern.test(fileName)
  return jobs
    .filter(j => typeof j.fileName === 'string' && matches(j.fileName))
    .filter(j => !ctx.run.claimed.has(j.jobId))
    .filter(j => (j.startTime ?? 0) >= attemptStart - CLOCK_SKEW_MS)
    .sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0))[0]
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
