import { describe, expect, it } from 'vitest'
import { fullJitterBackoffMs } from '../../src/backoff.ts'
import { ManualClock } from '../../src/clock.ts'
import { RateGate } from '../../src/rate-gate.ts'
import { rateBudget, requestedWaitMs } from '../../src/rate-limit-headers.ts'

const now = Date.UTC(2026, 11, 7, 6, 0, 0)

describe('requestedWaitMs', () => {
  it('reads Retry-After as delta-seconds (fractions too) or an HTTP-date', () => {
    expect(requestedWaitMs({ 'retry-after': '3' }, now)).toBe(3000)
    expect(requestedWaitMs({ 'retry-after': '0.25' }, now)).toBe(250)
    expect(requestedWaitMs({ 'retry-after': new Date(now + 7000).toUTCString() }, now)).toBe(7000)
    expect(requestedWaitMs({ 'retry-after': new Date(now - 7000).toUTCString() }, now)).toBe(0)
  })
  it('falls back to RateLimit-Reset, then X-RateLimit-Reset as delta or epoch seconds', () => {
    expect(requestedWaitMs({ 'ratelimit-reset': '4' }, now)).toBe(4000)
    expect(requestedWaitMs({ 'x-ratelimit-reset': '2' }, now)).toBe(2000)
    expect(requestedWaitMs({ 'x-ratelimit-reset': String(now / 1000 + 9) }, now)).toBe(9000)
    expect(requestedWaitMs({ 'retry-after': '1', 'ratelimit-reset': '4' }, now)).toBe(1000)
  })
  it('names no wait when no header does', () => {
    expect(requestedWaitMs({}, now)).toBeUndefined()
    expect(requestedWaitMs({ 'retry-after': 'soon' }, now)).toBeUndefined()
  })
  it('reads the remaining budget', () => {
    expect(rateBudget({ 'ratelimit-remaining': '3', 'ratelimit-reset': '10' }, now)).toEqual({ remaining: 3, resetMs: 10000 })
    expect(rateBudget({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) }, now)).toEqual({ remaining: 0, resetMs: 5000 })
    expect(rateBudget({ 'ratelimit-remaining': '3' }, now)).toBeUndefined()
  })
})

describe('fullJitterBackoffMs', () => {
  it('stays within [base/10, min(cap, base·2^n)]', () => {
    expect(fullJitterBackoffMs(1, 100, 1000, () => 1)).toBe(200)
    expect(fullJitterBackoffMs(10, 100, 1000, () => 1)).toBe(1000)
    expect(fullJitterBackoffMs(3, 100, 1000, () => 0)).toBe(10)
    expect(fullJitterBackoffMs(3, 100, 1000, () => 0.5)).toBe(400)
  })
})

describe('RateGate', () => {
  it('holds every caller after a 429, not only the one that got it', async () => {
    const clock = new ManualClock(now)
    const gate = new RateGate(clock)
    gate.pause(2000)
    await Promise.all([gate.pass(), gate.pass(), gate.pass()])
    expect(clock.now() - now).toBeGreaterThanOrEqual(2000)
    // Three callers waited together: the stats count the 2 s once.
    expect(gate.waitedMs).toBe(2000)
  })
  it('spaces calls out when the budget runs low, and waits for the reset at zero', async () => {
    const clock = new ManualClock(now)
    const gate = new RateGate(clock)
    gate.observe({ remaining: 4, resetMs: 8000 })
    const times: number[] = []
    for (let i = 0; i < 4; i++) {
      await gate.pass()
      times.push(clock.now() - now)
    }
    expect(times).toEqual([0, 2000, 4000, 6000])
    gate.observe({ remaining: 0, resetMs: 5000 })
    const before = clock.now()
    await gate.pass()
    expect(clock.now() - before).toBeGreaterThanOrEqual(5000)
  })
  it('costs nothing while the budget is healthy', async () => {
    const clock = new ManualClock(now)
    const gate = new RateGate(clock)
    gate.observe({ remaining: 500, resetMs: 60000 })
    for (let i = 0; i < 10; i++) await gate.pass()
    expect(clock.now()).toBe(now)
  })
  it('returns at once when the run is cancelled', async () => {
    const clock = new ManualClock(now)
    const gate = new RateGate(clock)
    gate.pause(60_000)
    const ac = new AbortController()
    ac.abort()
    await gate.pass(ac.signal)
    expect(clock.now()).toBe(now)
  })
})
