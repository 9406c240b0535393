// The Clari export API as typed calls. Each call knows whether it is safe to repeat:
// the create call is not idempotent, so its transient failures are handed back to the
// caller (who looks for the job before creating again) instead of being retried here.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { ClariError } from './errors.ts'
import { drain, type RawResponse, type Transport } from './http.ts'
import type { Redactor } from './redact.ts'

export type JobStatus = 'SCHEDULED' | 'STARTED' | 'DONE' | 'FAILED' | 'CANCELLED' | 'ABORTED'
export const TERMINAL_STATUSES: readonly string[] = ['DONE', 'FAILED', 'CANCELLED', 'ABORTED']

export interface ExportJob {
  jobId: string
  status: JobStatus
  startTime?: number
  endTime?: number
  fileName?: string
  fileType?: string
  rowsTruncated?: boolean
  cellsTruncated?: boolean
}

/** What /admin/limits said; a field it left out is undefined (the description requires none). */
export interface Limits {
  concurrentLimit?: number
  monthlyQuota?: number
  availableConcurrentLimit?: number
  availableMonthlyQuota?: number
}

export interface CreateExportBody {
  timePeriod?: string
  typesToExport: string[]
  exportFormat: 'JSON' | 'CSV'
  schedule: 'NONE' | 'ONCE' | 'MAX'
  includeHistorical: boolean
  currency?: string
  scopeId?: string
}

const MAX_REDIRECTS = 5

export class ClariClient {
  private readonly transport: Transport
  private readonly baseUrl: URL
  private readonly apiKey: string
  private readonly redactor: Redactor

  constructor(transport: Transport, baseUrl: URL, apiKey: string, redactor: Redactor) {
    this.transport = transport
    this.baseUrl = baseUrl
    this.apiKey = apiKey
    this.redactor = redactor
  }

  async createExport(forecastId: string, body: CreateExportBody): Promise<string> {
    const res = await this.call('POST', `export/forecast/${encodeURIComponent(forecastId)}`, body, false)
    const json = (await this.json(res)) as { jobId?: unknown }
    if (typeof json.jobId !== 'string' || !json.jobId) {
      throw new ClariError('lost', 'Clari accepted the export but its answer had no jobId')
    }
    return json.jobId
  }

  async getJob(jobId: string): Promise<ExportJob> {
    const res = await this.call('GET', `export/jobs/${encodeURIComponent(jobId)}`, undefined, true)
    return (await this.json(res)) as ExportJob
  }

  async listJobs(): Promise<ExportJob[]> {
    const res = await this.call('GET', 'export/jobs', undefined, true)
    const json = await this.json(res)
    return Array.isArray(json) ? (json as ExportJob[]) : []
  }

  async cancelJob(jobId: string): Promise<string | undefined> {
    const res = await this.call('PATCH', `export/jobs/${encodeURIComponent(jobId)}`, { type: 'CANCEL' }, true)
    const json = (await this.json(res)) as { status?: string }
    return json.status
  }

  async getLimits(): Promise<Limits> {
    const res = await this.call('GET', 'admin/limits', undefined, true)
    const json = (await this.json(res)) as { jobs?: Record<string, unknown> }
    const j = json.jobs ?? {}
    const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
    return {
      concurrentLimit: count(j.concurrentLimit),
      monthlyQuota: count(j.monthlyQuota),
      availableConcurrentLimit: count(j.availableConcurrentLimit),
      availableMonthlyQuota: count(j.availableMonthlyQuota)
    }
  }

  /**
   * Opens the results stream. Redirects are followed here, not by http-client: the key
   * goes only to the API's own origin, and https→http is refused.
   */
  async openResults(jobId: string): Promise<IncomingMessage> {
    let url = this.url(`export/jobs/${encodeURIComponent(jobId)}/results`)
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === this.baseUrl.origin
      const headers: OutgoingHttpHeaders = sameOrigin ? { apikey: this.apiKey } : {}
      const res = await this.transport.send('GET', url, headers, null, { retryTransient: true })
      if ([301, 302, 303, 307, 308].includes(res.status)) {
        const location = res.headers.location
        await drain(res.response)
        if (!location) throw new ClariError('download', `the results download answered ${res.status} without a Location`, res.status)
        if (hop >= MAX_REDIRECTS) throw new ClariError('download', `the results download redirected more than ${MAX_REDIRECTS} times`)
        const next = new URL(location, url)
        if (url.protocol === 'https:' && next.protocol !== 'https:') {
          throw new ClariError(
            'download',
            `the results download redirected from https to ${next.protocol.replace(':', '')} (${next.host}); refused so the data never travels unencrypted`
          )
        }
        url = next
        continue
      }
      if (res.status !== 200) await this.fail(res, url)
      return res.response.message
    }
  }

  private url(relative: string): URL {
    return new URL(relative, this.baseUrl)
  }

  private async call(method: string, relative: string, body: unknown, retryTransient: boolean): Promise<RawResponse> {
    const url = this.url(relative)
    const headers: OutgoingHttpHeaders = { apikey: this.apiKey, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await this.transport.send(method, url, headers, body === undefined ? null : JSON.stringify(body), { retryTransient })
    if (res.status < 200 || res.status >= 300) await this.fail(res, url)
    return res
  }

  private async json(res: RawResponse): Promise<unknown> {
    const text = await res.response.readBody()
    try {
      return JSON.parse(text)
    } catch {
      // Redact before cutting: a cut key would no longer match.
      throw new ClariError('transient', `Clari answered ${res.status} with a body that is not JSON: ${this.redactor.redact(text).slice(0, 200)}`)
    }
  }

  /** Turns an error response into a ClariError with Clari's own message, redacted. */
  private async fail(res: RawResponse, url: URL): Promise<never> {
    // Redact before cutting: a cut key would no longer match.
    const text = this.redactor.redact(await drain(res.response))
    let code: string | undefined
    let message = text.slice(0, 500)
    try {
      const j = JSON.parse(text) as { code?: string; message?: string }
      code = j.code
      message = j.message ?? message
    } catch {
      // not JSON: keep the raw text
    }
    const what = `${res.status} on ${url.origin === this.baseUrl.origin ? this.transport.describe(url) : url.host}`
    const detail = this.redactor.redact(`${message}${code ? ` (code ${code})` : ''}`)
    if (res.status === 401) {
      throw new ClariError(
        'auth',
        `Clari refused the API key (${what}): ${detail}. Check that the api-key secret holds a current token: a token stops working when it is revoked in Clari's Settings or when the user who made it is deactivated; the token's user also needs rights on the forecast.`,
        401,
        code
      )
    }
    if (res.status === 403) {
      throw new ClariError(
        'auth',
        `Clari denied access (${what}): ${detail}. The token's user has no rights on this export job or forecast; ask a Clari admin to grant access.`,
        403,
        code
      )
    }
    if (res.status >= 500 || res.status === 408) throw new ClariError('transient', `Clari answered ${what}: ${detail}`, res.status, code)
    throw new ClariError('rejected', `Clari answered ${what}: ${detail}`, res.status, code)
  }
}
