// Clari export API simulator: HTTP routing, auth, the request record, and the
// wiring of jobs, content, faults and rate limiting. Starts two hosts: the API
// and a "storage" host that results downloads can be redirected to.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { planContent, renderContent, streamContent } from './content.ts'
import { FaultBook } from './faults.ts'
import type { FaultContext } from './faults.ts'
import { drop, errorBody, newRecord, parseBody, readBody, sendError, sendJson } from './http.ts'
import type { Parsed } from './http.ts'
import { currentQuarter, JobStore } from './jobs.ts'
import type { Job } from './jobs.ts'
import { FixedWindow, quotaHeaders, throttleHeaders } from './ratelimit.ts'
import { signBlob, storageHandler } from './storage.ts'
import type { Fault, FaultRoute, RequestRecord, Simulator, SimulatorOptions } from './types.ts'
import { validateCreate } from './validate.ts'

export type { Fault, FaultRoute, JobRecord, PeriodBehaviour, RateLimitStyle, RequestRecord, ServedRecord, Simulator, SimulatorOptions } from './types.ts'

export const DEFAULT_API_KEY = 'sim-api-key-7f3a9c'

const LIMIT_MESSAGE = 'Your job could not be queued. You may have reached your monthly quota or concurrent job limit.'
const NOT_FINISHED = 'Cannot retrieve data for job because it has not finished executing.'

// Bodies for injected status faults, in the OpenAPI error shape.
const FAULT_BODIES: Record<number, [code: string, namespace: string, message: string]> = {
  429: ['too_many_requests', 'gateway', 'Too many requests. Please slow down.'],
  500: ['internal_server_error', 'exports', 'An unexpected error occurred.'],
  502: ['bad_gateway', 'gateway', 'The upstream service answered badly.'],
  503: ['service_unavailable', 'gateway', 'The service is temporarily unavailable.'],
  504: ['gateway_timeout', 'gateway', 'The upstream service did not answer in time.']
}

interface Routed {
  route: FaultRoute | 'unknown'
  forecastId?: string
  jobId?: string
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function classify(method: string, path: string): Routed {
  const parts = path.split('/').filter(p => p !== '')
  if (parts[0] === 'export' && parts[1] === 'forecast' && parts.length <= 3 && method === 'POST') {
    return { route: 'create', forecastId: decode(parts[2] ?? '') }
  }
  if (parts[0] === 'export' && parts[1] === 'jobs') {
    if (parts.length === 2 && method === 'GET') return { route: 'list' }
    if (parts.length === 3 && method === 'GET') return { route: 'status', jobId: decode(parts[2]) }
    if (parts.length === 3 && method === 'PATCH') return { route: 'cancel', jobId: decode(parts[2]) }
    if (parts.length === 4 && parts[3] === 'results' && method === 'GET') return { route: 'results', jobId: decode(parts[2]) }
  }
  if (parts.length === 2 && parts[0] === 'admin' && parts[1] === 'limits' && method === 'GET') return { route: 'limits' }
  return { route: 'unknown' }
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : port)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise(resolve => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function asciiFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const startedAt = Date.now()
  const scale = options.timeScale ?? 1
  const apiKey = options.apiKey ?? DEFAULT_API_KEY
  const prefix = normalisePrefix(options.prefix ?? '/v4')
  const store = new JobStore({
    startedAt,
    timeScale: scale,
    defaults: options.defaults ?? {},
    periods: options.periods ?? {},
    currentPeriod: options.currentPeriod ?? currentQuarter(),
    concurrentLimit: options.concurrentLimit ?? 3,
    monthlyQuota: options.monthlyQuota ?? 1000,
    usedQuota: options.usedQuota ?? 0,
    externalJobs: options.externalJobs
  })
  const faults = new FaultBook()
  for (const fault of options.faults ?? []) faults.add(fault)
  const rate = options.rateLimit
  const limiter = rate ? new FixedWindow(rate.limit, rate.windowSeconds * 1000 * scale, startedAt) : undefined
  const requests: RequestRecord[] = []
  const storageRequests: RequestRecord[] = []
  const hung = new Set<ServerResponse>()
  const secret = randomBytes(32)
  let storageUrl = ''

  const jobContext = (job: Job): FaultContext => ({ route: 'results', label: job.period, resolved: job.resolvedPeriod })

  const faultContext = (routed: Routed, parsed: Parsed, job: Job | undefined): FaultContext => {
    if (routed.route === 'create') {
      const body = parsed.kind === 'json' ? (parsed.value as { timePeriod?: unknown } | null) : null
      const label = typeof body?.timePeriod === 'string' ? body.timePeriod : 'current'
      return { route: 'create', label, resolved: label === 'current' ? store.currentPeriod : label }
    }
    return job ? { ...jobContext(job), route: routed.route } : { route: routed.route }
  }

  // Both hosts serve results through here: one download, one served record.
  const serveJob = async (job: Job, res: ServerResponse, rec: RequestRecord): Promise<void> => {
    if (faults.take(['corrupt'], jobContext(job))) {
      // What a misbehaving proxy serves: a whole 200 response that is not the export.
      const page = Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>\n')
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': page.length })
      res.end(page)
      rec.status = 200
      return
    }
    const truncate = faults.take(['truncate'], jobContext(job))
    const plan = planContent(job.contentSpec())
    job.downloads++
    res.writeHead(200, {
      'Content-Type': plan.contentType,
      'Content-Length': plan.totalBytes,
      'Content-Disposition': `attachment; filename="${asciiFileName(job.fileName)}"`
    })
    rec.status = 200
    const served = await streamContent(plan, res, truncate ? Math.floor(plan.totalBytes / 2) : plan.totalBytes)
    job.served.push(served)
  }

  const sendFault = (res: ServerResponse, rec: RequestRecord, fault: Extract<Fault, { kind: 'status' }>, now: number): void => {
    const [code, namespace, message] = FAULT_BODIES[fault.code] ?? ['error', 'gateway', `The request failed with status ${fault.code}.`]
    const headers = throttleHeaders(fault.style ?? 'none', (fault.waitSeconds ?? 1) * 1000 * scale, rate?.limit ?? 100, now)
    sendError(res, rec, fault.code, code, namespace, message, headers)
  }

  const handleApi = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim')
    const inPrefix = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
    const path = inPrefix ? url.pathname.slice(prefix.length) || '/' : url.pathname
    const method = req.method ?? 'GET'
    const rec = newRecord(req, startedAt, path, url.search.slice(1))
    requests.push(rec)
    const routed = inPrefix ? classify(method, path) : { route: 'unknown' as const }
    rec.route = routed.route
    const parsed = parseBody(await readBody(req))
    if (parsed.kind !== 'empty') rec.body = parsed.value
    const now = Date.now()

    // The gateway's limiter sees every call before anything else does.
    if (limiter && rate) {
      const hit = limiter.hit(now)
      for (const [name, value] of Object.entries(quotaHeaders(rate.style, rate.limit, hit, now))) res.setHeader(name, value)
      if (!hit.allowed) {
        const [code, namespace, message] = FAULT_BODIES[429]
        return sendError(res, rec, 429, code, namespace, message, throttleHeaders(rate.style, hit.resetMs, rate.limit, now))
      }
    }

    const job = routed.jobId !== undefined ? store.find(routed.jobId) : undefined
    const ctx = faultContext(routed, parsed, job)
    const fault = faults.take(['status', 'drop', 'echo-key'], ctx)
    if (fault?.kind === 'drop') return drop(req, rec)
    if (fault?.kind === 'echo-key') {
      // Clari's messages can echo the request; this one echoes its headers, the key among them.
      return sendError(
        res,
        rec,
        400,
        'bad_request',
        'fcw',
        `The request body was malformed: ${JSON.stringify({ headers: { apikey: req.headers['apikey'] }, body: rec.body ?? null })}`
      )
    }
    if (fault?.kind === 'status') return sendFault(res, rec, fault, now)

    if (routed.route === 'unknown') return sendError(res, rec, 404, 'not_found', 'gateway', `No route for ${method} ${path}.`)
    if (options.revokedKey || req.headers['apikey'] !== apiKey) return sendError(res, rec, 401, 'invalid_api_key', 'auth', 'Invalid API token')

    const unknownJob = (): void => sendError(res, rec, 400, 'invalid_jobId', 'exports', `No export job exists with jobId ${routed.jobId}.`)

    switch (routed.route) {
      case 'create': {
        const forecastId = routed.forecastId ?? ''
        if (forecastId === '') return sendError(res, rec, 400, 'missing_forecast_id', 'fcw', 'The forecastId query parameter is required.')
        const valid = validateCreate(parsed)
        if (!valid.ok) return sendError(res, rec, 400, valid.error.code, 'fcw', valid.error.message)
        if (options.forecasts && !options.forecasts.includes(forecastId)) {
          return sendError(res, rec, 400, 'no_such_forecast_config', 'fcw', `Forecast ${forecastId} does not exist in the ForecastTemplate.`)
        }
        if (!store.canQueue(now)) {
          // Deliberately the same answer for both limits, as Clari gives: only /admin/limits tells which.
          return sendJson(res, rec, 400, { ...errorBody('export_limit_reached', 'exports', LIMIT_MESSAGE), source: 'Export' })
        }
        const created = store.create(forecastId, valid.body, now)
        const lost = faults.take(['lost-create'], ctx)
        if (lost?.mode === 'drop') return drop(req, rec)
        if (lost?.mode === '500') return sendFault(res, rec, { kind: 'status', code: 500, route: 'create' }, now)
        if (lost?.mode === 'hang') {
          hung.add(res)
          res.on('close', () => hung.delete(res))
          return
        }
        return sendJson(res, rec, 200, { jobId: created.jobId })
      }
      case 'status':
        if (options.forbiddenJobs) return sendError(res, rec, 403, 'forbidden', 'exports', 'Invalid permissions to view this job.')
        if (!job) return unknownJob()
        return sendJson(res, rec, 200, job.view(now))
      case 'list':
        return sendJson(
          res,
          rec,
          200,
          store.jobs.map(j => j.view(now))
        )
      case 'limits':
        return sendJson(res, rec, 200, store.limits(now))
      case 'cancel': {
        if (!job) return unknownJob()
        const body = parsed.kind === 'json' ? (parsed.value as { type?: unknown } | null) : null
        if (body?.type !== 'CANCEL') return sendError(res, rec, 400, 'bad_request', 'exports', 'The only supported update type is CANCEL.')
        const status = job.cancel(now)
        if (!status) return sendError(res, rec, 400, 'export_failed_to_cancel', 'exports', 'Cannot cancel the job because it already finished executing.')
        return sendJson(res, rec, 200, { status, successful: true })
      }
      case 'results': {
        if (!job) return unknownJob()
        if (job.statusAt(now) !== 'DONE') return sendError(res, rec, 400, 'invalid_jobId', 'exports', NOT_FINISHED)
        const redirect = faults.take(['redirect'], ctx)
        if (redirect) {
          // 'http-downgrade' differs only on an https API; the simulator's API is plain http already.
          const location = `${storageUrl}/blobs/${job.jobId}?sig=${signBlob(secret, job.jobId)}`
          res.writeHead(302, { Location: location, 'Content-Length': 0 })
          res.end()
          rec.status = 302
          return
        }
        return serveJob(job, res, rec)
      }
    }
  }

  const guard =
    (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      handler(req, res).catch((err: unknown) => {
        if (res.headersSent) res.destroy()
        else {
          const text = JSON.stringify(errorBody('internal_server_error', 'simulator', String(err)))
          res.writeHead(500, { 'Content-Type': 'application/json' }).end(text)
        }
      })
    }

  const api = createServer(guard(handleApi))
  const storage = createServer(
    guard(
      storageHandler({
        startedAt,
        records: storageRequests,
        secret,
        serve: async (jobId, res, rec) => {
          const job = store.find(jobId)
          if (!job || job.statusAt(Date.now()) !== 'DONE') return false
          await serveJob(job, res, rec)
          return true
        }
      })
    )
  )

  const port = await listen(api, options.port ?? 0, '127.0.0.1')
  try {
    storageUrl = `http://127.0.0.2:${await listen(storage, 0, '127.0.0.2')}`
  } catch {
    // Some systems only route 127.0.0.1; a different host name still makes it another origin.
    storageUrl = `http://localhost:${await listen(storage, 0, '127.0.0.1')}`
  }

  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    storageUrl,
    apiKey,
    requests,
    storageRequests,
    jobs: store.jobs,
    inject: fault => faults.add(fault),
    content: jobId => {
      const job = store.find(jobId)
      if (!job) throw new Error(`no such job: ${jobId}`)
      return renderContent(planContent(job.contentSpec()))
    },
    close: async () => {
      for (const res of hung) res.destroy()
      await Promise.all([closeServer(api), closeServer(storage)])
    }
  }
}
