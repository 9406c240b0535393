// An in-memory Clari for scheduling tests on virtual time: jobs queue and run for the
// times given, the concurrent limit is enforced at create, and every call is recorded.
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { ClariClient, CreateExportBody, ExportJob, Limits } from '../../src/clari-client.ts'
import type { Clock } from '../../src/clock.ts'
import { ClariError } from '../../src/errors.ts'

export interface FakeJob {
  jobId: string
  period: string
  createdAt: number
  queuedMs: number
  runMs: number
  cancelledAt?: number
}

export class FakeClari {
  readonly jobs: FakeJob[] = []
  readonly calls: { method: string; at: number; jobId?: string }[] = []
  /** Called after each job is made, with the number made so far. */
  onCreate: ((count: number) => void) | undefined
  private readonly clock: Clock
  private readonly times: Record<string, { queuedMs: number; runMs: number }>
  private readonly concurrentLimit: number
  /** Someone else's jobs hold this many slots until `externalUntil`. */
  private readonly external: { count: number; until: number }

  constructor(clock: Clock, times: Record<string, { queuedMs: number; runMs: number }>, concurrentLimit = 3, external = { count: 0, until: 0 }) {
    this.clock = clock
    this.times = times
    this.concurrentLimit = concurrentLimit
    this.external = external
  }

  asClient(): ClariClient {
    return this as unknown as ClariClient
  }

  endOf(j: FakeJob): number {
    return j.cancelledAt ?? j.createdAt + j.queuedMs + j.runMs
  }

  statusOf(j: FakeJob, at = this.clock.now()): ExportJob['status'] {
    if (j.cancelledAt !== undefined) return j.cancelledAt < j.createdAt + j.queuedMs ? 'CANCELLED' : 'ABORTED'
    if (at < j.createdAt + j.queuedMs) return 'SCHEDULED'
    if (at < this.endOf(j)) return 'STARTED'
    return 'DONE'
  }

  /** The most jobs of ours that were queued or running at one moment. */
  maxOverlap(): number {
    const edges = this.jobs.flatMap(j => [
      [j.createdAt, 1],
      [this.endOf(j), -1]
    ])
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    let now = 0
    let max = 0
    for (const [, d] of edges) max = Math.max(max, (now += d))
    return max
  }

  private active(at: number): number {
    const ours = this.jobs.filter(j => at < this.endOf(j)).length
    return ours + (at < this.external.until ? this.external.count : 0)
  }

  async createExport(_forecastId: string, body: CreateExportBody): Promise<string> {
    const at = this.clock.now()
    this.calls.push({ method: 'create', at })
    if (this.active(at) >= this.concurrentLimit) throw new ClariError('rejected', 'You may have reached your monthly quota or concurrent job limit', 400)
    const period = body.timePeriod ?? 'current'
    const jobId = `job-${this.jobs.length + 1}`
    this.jobs.push({ jobId, period, createdAt: at, ...this.times[period] })
    this.onCreate?.(this.jobs.length)
    return jobId
  }

  async getJob(jobId: string): Promise<ExportJob> {
    this.calls.push({ method: 'status', at: this.clock.now(), jobId })
    const j = this.find(jobId)
    const status = this.statusOf(j)
    return { jobId, status, startTime: j.createdAt, ...(status === 'DONE' ? { endTime: this.endOf(j) } : {}) }
  }

  async listJobs(): Promise<ExportJob[]> {
    this.calls.push({ method: 'list', at: this.clock.now() })
    return []
  }

  async cancelJob(jobId: string): Promise<string> {
    this.calls.push({ method: 'cancel', at: this.clock.now(), jobId })
    const j = this.find(jobId)
    j.cancelledAt = this.clock.now()
    return this.statusOf(j)
  }

  async getLimits(): Promise<Limits> {
    const at = this.clock.now()
    this.calls.push({ method: 'limits', at })
    const free = this.concurrentLimit - this.active(at)
    return { concurrentLimit: this.concurrentLimit, monthlyQuota: 1000, availableConcurrentLimit: free, availableMonthlyQuota: 1000 }
  }

  async openResults(jobId: string): Promise<IncomingMessage> {
    this.calls.push({ method: 'results', at: this.clock.now(), jobId })
    const body = Buffer.from(JSON.stringify([['Period'], [this.find(jobId).period]]))
    return Object.assign(Readable.from([body]), { headers: { 'content-length': String(body.length) } }) as unknown as IncomingMessage
  }

  private find(jobId: string): FakeJob {
    const j = this.jobs.find(x => x.jobId === jobId)
    if (!j) throw new ClariError('rejected', `no job ${jobId}`, 400)
    return j
  }
}
