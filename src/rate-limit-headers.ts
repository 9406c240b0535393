// Reads how long a 429 asks us to wait, and how much rate budget is left, from the
// headers Clari's gateway may send: Retry-After (RFC 9110, seconds or HTTP-date),
// RateLimit-* (IETF draft) and X-RateLimit-* (reset as epoch seconds or delta seconds).
import type { IncomingHttpHeaders } from 'node:http'

export interface RateBudget {
  remaining: number
  /** Milliseconds until the window resets. */
  resetMs: number
}

const EPOCH_SECONDS_THRESHOLD = 1e9 // a reset value this large is an epoch time, not a delta

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function nonNegativeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text)) return undefined
  return Number(text)
}

/** The wait a response asks for, in ms, or undefined when it names none. */
export function requestedWaitMs(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const retryAfter = header(headers, 'retry-after')
  if (retryAfter !== undefined) {
    const secs = nonNegativeNumber(retryAfter)
    if (secs !== undefined) return secs * 1000
    const date = Date.parse(retryAfter)
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs)
  }
  return resetMs(headers, nowMs)
}

function resetMs(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
    const v = nonNegativeNumber(header(headers, name))
    if (v === undefined) continue
    return v >= EPOCH_SECONDS_THRESHOLD ? Math.max(0, v * 1000 - nowMs) : v * 1000
  }
  return undefined
}

/** The budget left in the current window, when the response says. */
export function rateBudget(headers: IncomingHttpHeaders, nowMs: number): RateBudget | undefined {
  const remaining = nonNegativeNumber(header(headers, 'ratelimit-remaining') ?? header(headers, 'x-ratelimit-remaining'))
  const reset = resetMs(headers, nowMs)
  if (remaining === undefined || reset === undefined) return undefined
  return { remaining, resetMs: reset }
}
