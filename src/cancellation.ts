// When the run must stop early: a cancelled workflow run (SIGINT/SIGTERM, wired by
// index.ts) or the `timeout` input. The run gets one signal; the cleanup after it (cancels
// of jobs still running in Clari) gets its own, with a short budget, because the runner
// kills the process a few seconds after a cancel.
import type { Clock } from './clock.ts'

/** Time the cleanup gets after the run was stopped. */
export const CLEANUP_BUDGET_MS = 5_000

export interface Cancellation {
  signal: AbortSignal
  cleanupSignal: AbortSignal
  /** Why the run was stopped, once it was. */
  reason: () => string
  /** Stop watching (the run is over). */
  dispose: () => void
}

export function cancellation(timeoutMs: number, clock: Clock, cancelSignal: AbortSignal | undefined, warn: (m: string) => void): Cancellation {
  const run = new AbortController()
  const cleanup = new AbortController()
  let why = ''
  const stop = (r: string): void => {
    if (run.signal.aborted) return
    why = r
    warn(`Stopping: ${r}; cancelling the jobs still running in Clari`)
    run.abort()
    void clock.sleep(CLEANUP_BUDGET_MS, cleanup.signal).then(() => cleanup.abort())
  }
  const onCancel = (): void => stop('cancelled (the workflow run was cancelled)')
  // A signal that came before we listened (during start-up) counts too.
  if (cancelSignal?.aborted) onCancel()
  else cancelSignal?.addEventListener('abort', onCancel, { once: true })
  const deadline = new AbortController()
  if (timeoutMs > 0) {
    void clock.sleep(timeoutMs, deadline.signal).then(() => {
      if (!deadline.signal.aborted) stop(`out of time (timeout: ${timeoutMs / 1000} s)`)
    })
  }
  return {
    signal: run.signal,
    cleanupSignal: cleanup.signal,
    reason: () => why,
    dispose: () => {
      deadline.abort()
      cancelSignal?.removeEventListener('abort', onCancel)
    }
  }
}
