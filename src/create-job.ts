// Creates the Clari job for one period, exactly once. The create call is not idempotent:
// when its answer is lost we look for the job in Clari's list before creating again.
// A 400 may mean a full concurrent limit (wait for a slot) or an exhausted quota (stop).
import { fullJitterBackoffMs } from './backoff.ts'
import type { CreateExportBody, ExportJob } from './clari-client.ts'
import { Aborted, ClariError, messageOf } from './errors.ts'
import { jobsMadeBy } from './job-match.ts'
import type { PeriodContext } from './period-context.ts'
import { CURRENT } from './periods.ts'

/** Lost create answers tolerated for one period before giving up. */
export const MAX_LOST_CREATES = 3
/** Clari codes of a 400 that no wait can fix: no need to ask /admin/limits. */
const NOT_A_LIMIT = ['no_such_forecast_config', 'missing_forecast_id', 'type_not_supported', 'bad_request', 'no_optin']

export async function createJob(ctx: PeriodContext, period: string): Promise<string> {
  const { client, config, clock, signal, run } = ctx
  let lostAnswers = 0
  let limitWaits = 0
  for (;;) {
    if (run.stopReason) throw run.stopReason
    // `current` names no quarter in Clari's file names, so a lost answer could not be told
    // from another quarter's job: note which jobs exist before creating (one extra call).
    const before = period === CURRENT ? await jobIdsNow(ctx) : undefined
    const attemptStart = clock.now()
    run.pendingCreates.set(period, { since: attemptStart, before })
    // True while Clari may have made a job we do not know of: the create answer, or the lookup
    // for its job, is still out. Cut short then, the period stays pending and the cleanup
    // looks for the job; otherwise the attempt is settled either way.
    let unknownJob = true
    let waitMs: number
    try {
      const jobId = await client.createExport(config.forecastId, requestBody(ctx, period))
      unknownJob = false
      run.claimed.add(jobId)
      return jobId
    } catch (e) {
      if (!(e instanceof ClariError)) throw e
      if (e.kind === 'transient' || e.kind === 'lost') {
        ctx.log(period, `the answer to the create call was lost (${e.message}); looking for the job in Clari's job list before creating again`)
        const adopted = await findCreatedJob(ctx, period, attemptStart, before)
        unknownJob = false
        if (adopted) {
          run.claimed.add(adopted.jobId)
          ctx.event(period, `found job ${adopted.jobId} (${adopted.fileName}) made by the lost call; using it instead of creating another`)
          return adopted.jobId
        }
        if (++lostAnswers > MAX_LOST_CREATES) {
          throw new ClariError('lost', `creating the export failed ${lostAnswers} times and Clari's job list shows no job for it: ${e.message}`)
        }
        ctx.log(period, 'no job was made; creating it again')
        waitMs = fullJitterBackoffMs(lostAnswers, config.pollIntervalMs, config.maxPollIntervalMs, ctx.random)
      } else {
        unknownJob = false
        if (e.kind !== 'rejected' || e.status !== 400) throw e
        const wait = await limitVerdict(ctx, e)
        if (++limitWaits > config.maxAttempts) {
          throw new ClariError(
            'rejected',
            `Clari's concurrent job limit stayed full through ${config.maxAttempts} checks (max-attempts): ${e.message}. Other jobs in your org hold every slot; run this later or raise max-attempts.`,
            400
          )
        }
        ctx.log(period, `Clari's concurrent job limit is full (${wait}); waiting for a slot`)
        waitMs = fullJitterBackoffMs(Math.min(limitWaits, 6), config.pollIntervalMs, config.maxPollIntervalMs, ctx.random)
      }
    } finally {
      if (!(unknownJob && signal.aborted)) run.pendingCreates.delete(period)
    }
    await clock.sleep(waitMs, signal)
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
  if (rejection.code && NOT_A_LIMIT.includes(rejection.code)) {
    throw refusal(rejection)
  }
  let limits
  try {
    limits = await ctx.client.getLimits()
  } catch (e) {
    throw new ClariError('rejected', `${rejection.message} (and /admin/limits could not be read to tell why: ${messageOf(e)})`, 400, rejection.code)
  }
  if (limits.availableMonthlyQuota !== undefined && limits.availableMonthlyQuota <= 0) {
    const quota = new ClariError(
      'quota',
      `Clari's monthly export quota is used up (${limits.monthlyQuota === undefined ? '' : `${limits.monthlyQuota - limits.availableMonthlyQuota} of ${limits.monthlyQuota} used in the last 30 days, `}${limits.availableMonthlyQuota} left), so no more jobs can be created. Exports that finished are kept; ask Clari support to raise the quota or run again when it frees up.`,
      400,
      rejection.code
    )
    ctx.run.stopReason = quota
    throw quota
  }
  if (limits.availableConcurrentLimit !== undefined && limits.availableConcurrentLimit <= 0) {
    return limits.concurrentLimit === undefined ? 'no free slot' : `${limits.concurrentLimit - limits.availableConcurrentLimit} of ${limits.concurrentLimit} slots in use`
  }
  // The limits look free now; if Clari's message was about limits, a slot has just freed.
  if (/quota|concurrent|limit/i.test(rejection.message)) return 'a slot has just freed'
  throw refusal(rejection)
}

/** Clari's refusal, with the input to fix; marked run-wide when every period would meet it. */
function refusal(e: ClariError): ClariError {
  const text = `${e.code ?? ''} ${e.message}`
  let fix = "Check the 'forecast-id', 'types-to-export', 'currency' and 'scope-id' inputs."
  let runWide = true
  if (/no_such_forecast|missing_forecast/i.test(text)) fix = "Check the 'forecast-id' input: use the forecast tab id from the Clari URL."
  else if (/type_not_supported|typesToExport values|typeToExport/i.test(text))
    fix = "Check the 'types-to-export' input: Clari's export API does not accept every type (crm_total and crm_closed are refused)."
  else if (/currency/i.test(text)) fix = "Check the 'currency' input: use a currency code your Clari org supports, or leave it empty."
  else if (/scope|optin/i.test(text)) fix = "Check the 'scope-id' input and the token user's place in the forecast hierarchy."
  else runWide = false
  const refused = new ClariError('rejected', `${e.message}. ${fix}`, 400, e.code)
  refused.runWide = runWide
  return refused
}

/** Ids of the jobs Clari lists now, or undefined when the list cannot be read. */
async function jobIdsNow(ctx: PeriodContext): Promise<Set<string> | undefined> {
  try {
    return new Set((await ctx.client.listJobs()).map(j => j.jobId))
  } catch (e) {
    if (e instanceof Aborted) throw e
    return undefined
  }
}

/** The job a lost create call made, if Clari's list shows one. */
async function findCreatedJob(ctx: PeriodContext, period: string, attemptStart: number, before: ReadonlySet<string> | undefined): Promise<ExportJob | undefined> {
  let jobs: ExportJob[]
  try {
    jobs = await ctx.client.listJobs()
  } catch (e) {
    if (e instanceof Aborted) throw e
    // Creating blindly could run the export twice and burn quota; better to stop here.
    throw new ClariError(
      'lost',
      `the create call's answer was lost and Clari's job list could not be read to check whether the job exists (${messageOf(e)}). Check the export jobs in Clari before running again, so the export does not run twice.`
    )
  }
  const candidates = jobsMadeBy(
    jobs,
    { forecastId: ctx.config.forecastId, period, format: ctx.config.exportFormat, since: attemptStart, before },
    { claimed: ctx.run.claimed, explicitPeriods: ctx.config.periods }
  )
  // `current` names no quarter: with two candidates we cannot tell which is ours.
  if (period === CURRENT && candidates.length > 1) {
    throw new ClariError(
      'lost',
      `the create call's answer was lost and Clari's job list shows ${candidates.length} jobs it may have made (${candidates.map(j => j.jobId).join(', ')}); not guessing. Check the export jobs in Clari before running again.`
    )
  }
  return candidates[0]
}
