// Everything one period's export needs, injected so tests can replace any of it.
import type { ClariClient } from './clari-client.ts'
import type { Clock } from './clock.ts'
import type { Config } from './inputs.ts'
import type { PollPlanner } from './poll-planner.ts'
import type { RunState } from './run-state.ts'
import type { Slots } from './slots.ts'

export interface PeriodContext {
  config: Config
  client: ClariClient
  clock: Clock
  planner: PollPlanner
  slots: Slots
  run: RunState
  signal: AbortSignal
  random: () => number
  /** A detail line for the period's log group. */
  log: (period: string, message: string) => void
  /** A state change, printed live as well. */
  event: (period: string, message: string) => void
}
