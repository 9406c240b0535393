// A FIFO semaphore for Clari job slots: periods take a slot in the order given, so jobs
// are created in that order whatever the concurrency.
export class Slots {
  private free: number
  private readonly waiting: (() => void)[] = []

  constructor(count: number) {
    this.free = count
  }

  /** Resolves with true once a slot is ours, or false when `signal` aborts first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false
    if (this.free > 0) {
      this.free--
      return true
    }
    return new Promise<boolean>(resolve => {
      const granted = (): void => {
        signal.removeEventListener('abort', aborted)
        resolve(true)
      }
      const aborted = (): void => {
        this.waiting.splice(this.waiting.indexOf(granted), 1)
        resolve(false)
      }
      this.waiting.push(granted)
      signal.addEventListener('abort', aborted, { once: true })
    })
  }

  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }
}
