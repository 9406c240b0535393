// Time is injected everywhere so tests can replace it: a clock and a sleep that
// wakes early when the run is cancelled.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>(resolve => {
      if (signal?.aborted || ms <= 0) return resolve()
      ms = Math.min(ms, MAX_TIMER_MS)
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
    })
}

/** A clock for tests: time moves only when someone sleeps. */
export class ManualClock implements Clock {
  private time: number
  readonly sleeps: number[] = []
  constructor(start = Date.UTC(2026, 11, 7, 6, 0, 0)) {
    this.time = start
  }
  now(): number {
    return this.time
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms)
    if (signal?.aborted) return
    this.time += Math.max(0, ms)
    await Promise.resolve()
  }
  advance(ms: number): void {
    this.time += ms
  }
}
