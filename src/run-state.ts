// What the periods of one run share: the jobs they own, and a reason to stop creating.
import type { ClariError } from './errors.ts'

export class RunState {
  /** Every job id this run created or adopted: never adopted twice. */
  readonly claimed = new Set<string>()
  /** Jobs not yet in a terminal state, job id → period; cancelled if the run is cut short. */
  readonly inFlight = new Map<string, string>()
  /** Create calls sent and not answered (their jobs may exist): period → when sent, and the jobs listed before. */
  readonly pendingCreates = new Map<string, { since: number; before?: ReadonlySet<string> }>()
  /** Set by a failure that makes every further create pointless (auth, quota). */
  stopReason: ClariError | undefined
}
