// Request-rate limiting as a gateway would do it: a fixed window counter, and
// the throttling headers in each style the Clari gateway may use.
import { formatSeconds } from './http.ts'
import type { RateLimitStyle } from './types.ts'

export interface WindowHit {
  allowed: boolean
  remaining: number
  resetMs: number // time until the current window ends
}

export class FixedWindow {
  readonly limit: number
  #windowMs: number
  #startedAt: number
  #window = -1
  #count = 0

  constructor(limit: number, windowMs: number, startedAt: number) {
    this.limit = limit
    this.#windowMs = Math.max(1, windowMs)
    this.#startedAt = startedAt
  }

  // Only admitted calls are counted, so exactly `limit` calls pass per window.
  hit(now: number): WindowHit {
    const elapsed = now - this.#startedAt
    const window = Math.floor(elapsed / this.#windowMs)
    if (window !== this.#window) {
      this.#window = window
      this.#count = 0
    }
    const resetMs = (window + 1) * this.#windowMs - elapsed
    if (this.#count >= this.limit) return { allowed: false, remaining: 0, resetMs }
    this.#count++
    return { allowed: true, remaining: this.limit - this.#count, resetMs }
  }
}

// Headers for a 429 that asks the client to wait `waitMs`.
export function throttleHeaders(style: RateLimitStyle, waitMs: number, limit: number, now: number): Record<string, string> {
  // HTTP-dates and epoch seconds have second resolution: round up so the client never comes back early.
  const resetEpochSeconds = Math.ceil((now + waitMs) / 1000)
  switch (style) {
    case 'none':
      return {}
    case 'retry-after-seconds':
      return { 'Retry-After': formatSeconds(waitMs / 1000) }
    case 'retry-after-date':
      return { 'Retry-After': new Date(resetEpochSeconds * 1000).toUTCString() }
    case 'ratelimit':
      return { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': '0', 'RateLimit-Reset': formatSeconds(waitMs / 1000) }
    case 'x-ratelimit':
      return { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(resetEpochSeconds) }
  }
}

// Informational headers sent on every answer when the limiter uses a RateLimit-* style.
export function quotaHeaders(style: RateLimitStyle, limit: number, hit: WindowHit, now: number): Record<string, string> {
  if (style === 'ratelimit') {
    return { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': String(hit.remaining), 'RateLimit-Reset': formatSeconds(hit.resetMs / 1000) }
  }
  if (style === 'x-ratelimit') {
    return {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(hit.remaining),
      'X-RateLimit-Reset': String(Math.ceil((now + hit.resetMs) / 1000))
    }
  }
  return {}
}
