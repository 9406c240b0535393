// Export jobs: lifecycle computed from timestamps (no timers), plus the org's
// concurrent-job limit and rolling monthly quota.
import { createHash, randomBytes } from 'node:crypto'
import { ORG_ID, USER_ID } from './http.ts'
import type { ContentSpec } from './content.ts'
import type { JobRecord, PeriodBehaviour, ServedRecord } from './types.ts'

const DAY_MS = 86_400_000
const BUILTIN: Required<Omit<PeriodBehaviour, 'resultBytes'>> = { queuedSeconds: 0.05, runSeconds: 0.2, outcome: 'DONE', rows: 25 }

export interface Timing {
  queuedMs: number
  runMs: number
  outcome: 'DONE' | 'FAILED'
  rows: number
  resultBytes?: number
}

// Calendar quarters stand in for the tenant's fiscal calendar.
export function currentQuarter(date = new Date()): string {
  return `${date.getUTCFullYear()}_Q${Math.floor(date.getUTCMonth() / 3) + 1}`
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

function stamp(epochMs: number): string {
  const d = new Date(epochMs)
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
}

export interface JobInit {
  forecastId: string
  period: string
  resolvedPeriod: string
  body: Record<string, unknown>
  createdAt: number
  timing: Timing
}

export class Job implements JobRecord {
  readonly jobId: string
  readonly forecastId: string
  readonly period: string
  readonly resolvedPeriod: string
  readonly body: Record<string, unknown>
  readonly createdAt: number // epoch ms, also the job's startTime
  cancelled = false
  downloads = 0
  served: ServedRecord[] = []
  #timing: Timing
  #cancel: { at: number; status: 'CANCELLED' | 'ABORTED' } | undefined

  constructor(init: JobInit) {
    this.jobId = randomBytes(12).toString('hex')
    this.forecastId = init.forecastId
    this.period = init.period
    this.resolvedPeriod = init.resolvedPeriod
    this.body = init.body
    this.createdAt = init.createdAt
    this.#timing = init.timing
  }

  // A getter so that sim.jobs always shows the live status.
  get status(): string {
    return this.statusAt(Date.now())
  }

  statusAt(now: number): string {
    if (this.#cancel) return this.#cancel.status
    const elapsed = now - this.createdAt
    if (elapsed < this.#timing.queuedMs) return 'SCHEDULED'
    if (elapsed < this.#timing.queuedMs + this.#timing.runMs) return 'STARTED'
    return this.#timing.outcome
  }

  isActive(now: number): boolean {
    const s = this.statusAt(now)
    return s === 'SCHEDULED' || s === 'STARTED'
  }

  endTime(now: number): number | undefined {
    if (this.#cancel) return this.#cancel.at
    return this.isActive(now) ? undefined : this.createdAt + this.#timing.queuedMs + this.#timing.runMs
  }

  // Returns the new status, or undefined when the job already finished.
  cancel(now: number): 'CANCELLED' | 'ABORTED' | undefined {
    const s = this.statusAt(now)
    if (s !== 'SCHEDULED' && s !== 'STARTED') return undefined
    this.#cancel = { at: now, status: s === 'SCHEDULED' ? 'CANCELLED' : 'ABORTED' }
    this.cancelled = true
    return this.#cancel.status
  }

  get format(): 'JSON' | 'CSV' {
    return this.body.exportFormat === 'CSV' ? 'CSV' : 'JSON'
  }

  get fileName(): string {
    return `clari_export_${this.forecastId}_${this.resolvedPeriod}_${stamp(this.createdAt)}.${this.format.toLowerCase()}`
  }

  contentSpec(): ContentSpec {
    return {
      jobId: this.jobId,
      resolvedPeriod: this.resolvedPeriod,
      format: this.format,
      types: Array.isArray(this.body.typesToExport) && this.body.typesToExport.length > 0 ? (this.body.typesToExport as string[]) : ['forecast', 'forecast_updated'],
      includeHistorical: this.body.includeHistorical === true,
      currency: typeof this.body.currency === 'string' ? this.body.currency : 'USD',
      rows: this.#timing.rows,
      resultBytes: this.#timing.resultBytes
    }
  }

  // The job as GET /export/jobs/{jobId} shows it (OpenAPI field names and types).
  view(now: number): Record<string, unknown> {
    const endTime = this.endTime(now)
    return {
      jobId: this.jobId,
      userId: USER_ID,
      orgId: ORG_ID,
      title: 'Forecast Export',
      module: 'FORECAST',
      startTime: this.createdAt,
      // Unfinished jobs carry no endTime/expiredTime rather than nulls the schema does not allow.
      ...(endTime === undefined ? {} : { endTime, expiredTime: endTime + 30 * DAY_MS }),
      version: 1,
      fileName: this.fileName,
      fileType: this.format,
      status: this.statusAt(now),
      viewed: this.downloads > 0,
      cellsTruncated: false,
      rowsTruncated: false,
      downloads: this.downloads,
      currency: typeof this.body.currency === 'string' ? this.body.currency : 'USD'
    }
  }

  // Getters are not serialised by JSON.stringify; the CLI's summary needs the status.
  toJSON(): JobRecord {
    const { jobId, forecastId, period, resolvedPeriod, body, createdAt, cancelled, downloads, served } = this
    return { jobId, forecastId, period, resolvedPeriod, body, createdAt, status: this.status, cancelled, downloads, served }
  }
}

export interface JobStoreOptions {
  startedAt: number
  timeScale: number
  defaults: PeriodBehaviour
  periods: Record<string, PeriodBehaviour>
  currentPeriod: string
  concurrentLimit: number
  monthlyQuota: number
  usedQuota: number
  externalJobs?: { count: number; releaseAfterSeconds: number }
}

function fakeId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 24)
}

export class JobStore {
  readonly jobs: Job[] = []
  readonly currentPeriod: string
  #o: JobStoreOptions
  #externalIds: string[]
  #externalUntil: number
  #priorIds: string[] // jobs of earlier days that already count against the quota

  constructor(options: JobStoreOptions) {
    this.#o = options
    this.currentPeriod = options.currentPeriod
    const ext = options.externalJobs
    this.#externalIds = Array.from({ length: ext?.count ?? 0 }, (_, i) => fakeId(`external-${i}`))
    this.#externalUntil = options.startedAt + (ext?.releaseAfterSeconds ?? 0) * 1000 * options.timeScale
    this.#priorIds = Array.from({ length: options.usedQuota }, (_, i) => fakeId(`prior-${i}`))
  }

  find(jobId: string): Job | undefined {
    return this.jobs.find(j => j.jobId === jobId)
  }

  // Durations for a period: built-in defaults < options.defaults < periods.current (when it is the current quarter) < periods[quarter].
  timing(resolvedPeriod: string): Timing {
    const p = this.#o.periods
    const b = {
      ...BUILTIN,
      ...this.#o.defaults,
      ...(resolvedPeriod === this.currentPeriod ? p['current'] : undefined),
      ...p[resolvedPeriod]
    }
    const scale = 1000 * this.#o.timeScale
    return { queuedMs: b.queuedSeconds * scale, runMs: b.runSeconds * scale, outcome: b.outcome, rows: b.rows, resultBytes: b.resultBytes }
  }

  #externalHeld(now: number): string[] {
    return now < this.#externalUntil ? this.#externalIds : []
  }

  #activeCount(now: number): number {
    return this.jobs.filter(j => j.isActive(now)).length + this.#externalHeld(now).length
  }

  #submittedIds(): string[] {
    return [...this.#priorIds, ...this.jobs.filter(j => !j.cancelled).map(j => j.jobId)]
  }

  canQueue(now: number): boolean {
    return this.#activeCount(now) < this.#o.concurrentLimit && this.#submittedIds().length < this.#o.monthlyQuota
  }

  create(forecastId: string, body: Record<string, unknown>, now: number): Job {
    const label = typeof body.timePeriod === 'string' ? body.timePeriod : 'current'
    const resolvedPeriod = label === 'current' ? this.currentPeriod : label
    const job = new Job({ forecastId, period: label, resolvedPeriod, body, createdAt: now, timing: this.timing(resolvedPeriod) })
    this.jobs.push(job)
    return job
  }

  limits(now: number): { jobs: Record<string, unknown> } {
    const running = [...this.#externalHeld(now), ...this.jobs.filter(j => j.statusAt(now) === 'STARTED').map(j => j.jobId)]
    const submitted = this.#submittedIds()
    return {
      jobs: {
        concurrentLimit: this.#o.concurrentLimit,
        monthlyQuota: this.#o.monthlyQuota,
        // As documented: the list is left out when nothing is running.
        ...(running.length > 0 ? { runningJobIds: running } : {}),
        submittedJobIds: submitted,
        availableConcurrentLimit: Math.max(0, this.#o.concurrentLimit - this.#activeCount(now)),
        availableMonthlyQuota: Math.max(0, this.#o.monthlyQuota - submitted.length)
      }
    }
  }
}
