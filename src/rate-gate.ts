// One rate budget shared by every call the run makes. After a 429 every caller waits,
// not just the one that got it, so concurrency never multiplies 429s; and when responses
// say how much budget is left, calls are spaced out before the limit is hit.
import type { Clock } from './clock.ts'
import type { RateBudget } from './rate-limit-headers.ts'

export class RateGate {
  private openAt = 0
  private nextSlotAt = 0
  private spacingMs = 0
  private spacingUntil = 0
  /** Wall time during which some caller was held back, for the manifest's stats (overlapping waits count once). */
  waitedMs = 0
  private countedUntil = 0

  private readonly clock: Clock
  constructor(clock: Clock) {
    this.clock = clock
  }

  /** Wait until a request may be sent. */
  async pass(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return
      const now = this.clock.now()
      const pacing = now < this.spacingUntil
      const at = Math.max(this.openAt, pacing ? this.nextSlotAt : 0)
      if (at <= now) {
        if (pacing) this.nextSlotAt = now + this.spacingMs
        return
      }
      // Concurrent callers wake together; the loop lets one take the slot and the rest wait on.
      this.waitedMs += Math.max(0, at - Math.max(now, this.countedUntil))
      this.countedUntil = Math.max(this.countedUntil, at)
      await this.clock.sleep(at - now, signal)
    }
  }

  /** A 429: nobody sends until `waitMs` has passed. */
  pause(waitMs: number): void {
    this.openAt = Math.max(this.openAt, this.clock.now() + waitMs)
  }

  /** Budget reported by a response: spread what is left over the rest of the window. */
  observe(budget: RateBudget): void {
    const now = this.clock.now()
    if (budget.remaining <= 0) {
      this.pause(budget.resetMs)
      return
    }
    // Only pace when the budget is getting short; a healthy budget costs nothing.
    if (budget.remaining <= 10) {
      this.spacingMs = budget.resetMs / budget.remaining
      this.spacingUntil = now + budget.resetMs
      this.nextSlotAt = Math.max(this.nextSlotAt, now)
    } else if (now >= this.spacingUntil) {
      this.spacingMs = 0
    }
  }
}
