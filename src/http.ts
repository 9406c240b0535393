// Every request to Clari goes through here: one place for the rate gate, retries of 429,
// 5xx and dropped connections, and stats. @actions/http-client's own retries and
// redirects are off: it ignores 429 and Retry-After, and on a cross-host redirect it
// strips only Authorization, which would send our `apikey` header to another host.
import { HttpClient, type HttpClientResponse } from '@actions/http-client'
import type { OutgoingHttpHeaders } from 'node:http'
import { fullJitterBackoffMs } from './backoff.ts'
import type { Clock } from './clock.ts'
import { Aborted, ClariError } from './errors.ts'
import type { RateGate } from './rate-gate.ts'
import { rateBudget, requestedWaitMs } from './rate-limit-headers.ts'
import type { Redactor } from './redact.ts'

export interface HttpStats {
  requests: number
  rateLimited: number
  retries: number
}

export interface RetryPolicy {
  /** Retry 5xx and dropped connections (safe only for calls that can be repeated). */
  retryTransient: boolean
}

export interface TransportOptions {
  clock: Clock
  gate: RateGate
  redactor: Redactor
  signal: AbortSignal
  requestTimeoutMs: number
  backoffBaseMs: number
  backoffCapMs: number
  random?: () => number
  log?: (message: string) => void
}

// Bounds so that nothing loops forever, whatever the server does.
export const MAX_TRANSIENT_RETRIES = 5
/** Failures to connect at all: the request never left, so any call may be retried, a few times. */
export const MAX_CONNECT_RETRIES = 3
const CONNECT_BACKOFF_MS = 1_000
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID'
])
export const MAX_RATE_LIMIT_RETRIES = 20
/** The longest single wait a 429 may ask for; a longer ask is cut to this and retried. */
export const MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000

/** A response whose body has not been read yet. */
export interface RawResponse {
  status: number
  headers: HttpClientResponse['message']['headers']
  response: HttpClientResponse
}

export class Transport {
  readonly stats: HttpStats = { requests: 0, rateLimited: 0, retries: 0 }
  private readonly client: HttpClient
  private readonly o: TransportOptions

  constructor(options: TransportOptions) {
    this.o = options
    this.client = new HttpClient('clari-export-action', [], {
      allowRetries: false,
      maxRetries: 0,
      allowRedirects: false,
      socketTimeout: options.requestTimeoutMs
    })
  }

  /**
   * Sends one logical request, retrying 429s (always: a 429 means it was not processed)
   * and, when the policy allows, 5xx and dropped connections. Other statuses are returned.
   * Throws ClariError('transient') for a 5xx or connection failure it will not retry.
   */
  async send(method: string, url: URL, headers: OutgoingHttpHeaders, body: string | null, policy: RetryPolicy): Promise<RawResponse> {
    let transientFailures = 0
    let connectFailures = 0
    let rateLimits = 0
    for (;;) {
      await this.o.gate.pass(this.o.signal)
      if (this.o.signal.aborted) throw new Aborted()
      this.stats.requests++
      let res: HttpClientResponse
      try {
        res = await this.raceAbort(this.client.request(method, url.href, body, headers))
      } catch (e) {
        if (e instanceof Aborted) throw e
        const reason = this.o.redactor.redact(e instanceof Error ? e.message : String(e))
        if (NOT_SENT.has((e as { code?: string }).code ?? '')) {
          if (connectFailures >= MAX_CONNECT_RETRIES) {
            throw new ClariError(
              'unreachable',
              `could not reach Clari at ${url.host} (${reason}). Check 'base-url', and that the runner can reach that host (DNS, firewall, proxy, TLS certificates).`
            )
          }
          connectFailures++
          // Short waits: an unreachable host rarely comes back within minutes, and the user waits.
          await this.backoff(connectFailures, MAX_CONNECT_RETRIES, `${method} ${this.describe(url)}: ${reason}`, CONNECT_BACKOFF_MS)
          continue
        }
        if (!policy.retryTransient || transientFailures >= MAX_TRANSIENT_RETRIES) {
          throw new ClariError('transient', `${method} ${this.describe(url)} failed: ${reason}`)
        }
        transientFailures++
        await this.backoff(transientFailures, MAX_TRANSIENT_RETRIES, `${method} ${this.describe(url)}: ${reason}`)
        continue
      }
      const status = res.message.statusCode ?? 0
      const budget = rateBudget(res.message.headers, this.o.clock.now())
      if (budget) this.o.gate.observe(budget)

      if (status === 429) {
        this.stats.rateLimited++
        await drain(res)
        if (rateLimits >= MAX_RATE_LIMIT_RETRIES) {
          throw new ClariError('rate-limited', `${method} ${this.describe(url)} was still rate limited (429) after ${rateLimits} retries`, 429)
        }
        rateLimits++
        // A wait of zero (a date in the past) would retry at once: back off instead.
        const asked = requestedWaitMs(res.message.headers, this.o.clock.now())
        const wait = asked ? Math.min(asked, MAX_RATE_LIMIT_WAIT_MS) : fullJitterBackoffMs(rateLimits, this.o.backoffBaseMs, this.o.backoffCapMs, this.o.random)
        this.stats.retries++
        this.o.log?.(
          `429 rate limited on ${method} ${this.describe(url)}; waiting ${(wait / 1000).toFixed(2)} s (${asked ? (asked > wait ? `the response asked for ${(asked / 1000).toFixed(0)} s` : 'as the response asked') : 'backoff'})`
        )
        this.o.gate.pause(wait)
        continue
      }
      // 408 (request timeout) is a transient failure like a 5xx.
      if ((status >= 500 || status === 408) && policy.retryTransient && transientFailures < MAX_TRANSIENT_RETRIES) {
        await drain(res)
        transientFailures++
        await this.backoff(transientFailures, MAX_TRANSIENT_RETRIES, `${method} ${this.describe(url)}: HTTP ${status}`)
        continue
      }
      return { status, headers: res.message.headers, response: res }
    }
  }

  /** The path below the host, for messages (never the query, never a key). */
  describe(url: URL): string {
    return this.o.redactor.redact(url.pathname)
  }

  private async backoff(attempt: number, of: number, what: string, baseMs = this.o.backoffBaseMs): Promise<void> {
    const wait = fullJitterBackoffMs(attempt, Math.min(baseMs, this.o.backoffBaseMs), this.o.backoffCapMs, this.o.random)
    this.stats.retries++
    this.o.log?.(`${what}; retry ${attempt}/${of} in ${(wait / 1000).toFixed(2)} s`)
    await this.o.clock.sleep(wait, this.o.signal)
    if (this.o.signal.aborted) throw new Aborted()
  }

  /** http-client has no abort; stop waiting for it when the run is cancelled. */
  raceAbort<T>(p: Promise<T>): Promise<T> {
    const signal = this.o.signal
    if (signal.aborted) return Promise.reject(new Aborted())
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new Aborted())
      signal.addEventListener('abort', onAbort, { once: true })
      p.then(
        v => {
          signal.removeEventListener('abort', onAbort)
          resolve(v)
        },
        e => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        }
      )
    })
  }
}

export async function drain(res: HttpClientResponse): Promise<string> {
  try {
    return await res.readBody()
  } catch {
    return ''
  }
}
