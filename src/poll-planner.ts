// When to poll a running job. Jobs of one forecast in one run take similar time, so
// once one has finished we aim the first poll at the expected finish instead of a blind
// schedule; after that (or with nothing seen yet) the gap grows with the job's age, so
// completion is noticed within a small fraction of the job's own run time. The user's
// poll-interval and max-poll-interval bound every gap.

/** Each gap is at most this fraction of the job's age: detection lag ≤ ~10 % of run time. */
export const LAG_RATIO = 0.1
/** Gaps are shortened by up to this fraction at random so parallel pollers do not align. */
export const JITTER = 0.1

export interface PollPlannerOptions {
  pollIntervalMs: number
  maxPollIntervalMs: number
  random?: () => number
}

export class PollPlanner {
  private readonly durations: number[] = []
  private readonly o: PollPlannerOptions

  constructor(options: PollPlannerOptions) {
    this.o = options
  }

  /** A job of this run finished after `ms` (Clari's endTime − startTime when it has them). */
  recordDuration(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.durations.push(ms)
  }

  /**
   * Expected run time from what this run has seen, or undefined before any job finished:
   * the latest finish, since job times drift over a run (queue load, data per quarter) and
   * the latest follows a drift where an average lags behind it.
   */
  expectedMs(): number | undefined {
    return this.durations.at(-1)
  }

  /** How long to wait before polling a job that is `ageMs` old and has been polled `polls` times. */
  nextDelayMs(ageMs: number, polls: number): number {
    const { pollIntervalMs: min, maxPollIntervalMs: max } = this.o
    const expected = this.expectedMs()
    if (expected !== undefined && ageMs < expected) {
      // Aim at the expected finish, but never poll more often than the user allows.
      return clamp(expected - ageMs, min, max)
    }
    if (polls === 0 && expected === undefined) return min
    const random = this.o.random ?? Math.random
    return clamp(LAG_RATIO * ageMs * (1 - JITTER * random()), min, max)
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}
