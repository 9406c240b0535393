// Virtual time for scheduling tests: sleeps wait on a timer queue, and run() advances
// the clock to the next timer whenever every task is waiting. Deterministic, no real sleeps.
import type { Clock } from '../../src/clock.ts'

interface Timer {
  at: number
  seq: number
  resolve: () => void
}

export class VirtualClock implements Clock {
  private t: number
  private seq = 0
  private timers: Timer[] = []

  constructor(start = Date.UTC(2026, 11, 7, 6, 0, 0)) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve()
    return new Promise(resolve => {
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve }
      this.timers.push(timer)
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter(x => x !== timer)
          resolve()
        },
        { once: true }
      )
    })
  }

  /** Runs `task` to the end, moving time forward only when nothing else can happen. */
  async run<T>(task: Promise<T>): Promise<T> {
    let settled = false
    task.then(
      () => (settled = true),
      () => (settled = true)
    )
    let idle = 0
    while (!settled) {
      // A macrotask turn lets promise chains and quick file I/O settle before time moves.
      await new Promise(r => setTimeout(r, 0))
      if (settled) break
      if (this.timers.length === 0) {
        // Real I/O (a file being written) may still be finishing; give it a moment.
        if (++idle > 2000) throw new Error('virtual clock: every task is waiting and no timer is set')
        await new Promise(r => setTimeout(r, 1))
        continue
      }
      idle = 0
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.timers.shift() as Timer
      this.t = Math.max(this.t, next.at)
      next.resolve()
    }
    return task
  }
}
