// Public types of the Clari API simulator (re-exported by server.ts).

export interface PeriodBehaviour {
  queuedSeconds?: number
  runSeconds?: number
  outcome?: 'DONE' | 'FAILED'
  rows?: number
  resultBytes?: number
}

export type FaultRoute = 'create' | 'status' | 'results' | 'list' | 'limits' | 'cancel' | 'any'

export type RateLimitStyle = 'none' | 'retry-after-seconds' | 'retry-after-date' | 'ratelimit' | 'x-ratelimit'

export type Fault =
  | { kind: 'status'; code: number; route: FaultRoute; times?: number; period?: string; style?: RateLimitStyle; waitSeconds?: number }
  | { kind: 'drop'; route: FaultRoute; times?: number; period?: string }
  | { kind: 'lost-create'; mode: 'drop' | '500' | 'hang'; times?: number; period?: string }
  | { kind: 'truncate'; times?: number; period?: string }
  | { kind: 'redirect'; times?: number; period?: string; to?: 'storage' | 'http-downgrade' }
  | { kind: 'corrupt'; times?: number; period?: string } // results: 200 with a whole, well-sized body that is not the export (an HTML error page)
  | { kind: 'echo-key'; route: FaultRoute; times?: number; period?: string } // 400 whose message echoes the request, apikey included

export interface SimulatorOptions {
  apiKey?: string
  prefix?: string
  port?: number
  timeScale?: number
  defaults?: PeriodBehaviour
  periods?: Record<string, PeriodBehaviour>
  currentPeriod?: string
  forecasts?: string[]
  concurrentLimit?: number
  monthlyQuota?: number
  usedQuota?: number
  externalJobs?: { count: number; releaseAfterSeconds: number }
  revokedKey?: boolean
  forbiddenJobs?: boolean
  rateLimit?: { limit: number; windowSeconds: number; style: RateLimitStyle }
  faults?: Fault[]
}

export interface RequestRecord {
  at: number
  method: string
  path: string
  route: FaultRoute | 'unknown' | 'storage'
  query: string
  headers: Record<string, string | string[] | undefined>
  hadApiKey: boolean
  body?: unknown
  status: number
}

export interface ServedRecord {
  bytes: number
  sha256: string
  complete: boolean
}

export interface JobRecord {
  jobId: string
  forecastId: string
  period: string
  resolvedPeriod: string
  body: Record<string, unknown>
  createdAt: number
  status: string
  cancelled: boolean
  downloads: number
  served: ServedRecord[]
}

export interface Simulator {
  url: string
  storageUrl: string
  apiKey: string
  requests: RequestRecord[]
  storageRequests: RequestRecord[]
  jobs: JobRecord[]
  inject(fault: Fault): void
  content(jobId: string): Buffer
  close(): Promise<void>
}
