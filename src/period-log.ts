// Logs of a run whose periods may run at once: state changes are printed live (prefixed
// with the period), and each period's full story is printed as one group when it ends,
// so concurrent periods never interleave inside a group.
import type { Clock } from './clock.ts'

export interface LogSink {
  info(message: string): void
  debug(message: string): void
  group(title: string, lines: string[]): void
}

export class PeriodLog {
  private readonly lines = new Map<string, string[]>()
  private readonly clock: Clock
  private readonly sink: LogSink
  private readonly redact: (s: string) => string
  private readonly start: number

  constructor(clock: Clock, sink: LogSink, redact: (s: string) => string) {
    this.clock = clock
    this.sink = sink
    this.redact = redact
    this.start = clock.now()
  }

  /** A detail line (each poll, each retry): only in the period's group and the debug log. */
  log = (period: string, message: string): void => {
    const line = this.stamp(message)
    this.linesOf(period).push(line)
    this.sink.debug(`[${period}] ${line}`)
  }

  /** A state change: printed live and kept for the group. */
  event = (period: string, message: string): void => {
    const line = this.stamp(message)
    this.linesOf(period).push(line)
    this.sink.info(`[${period}] ${line}`)
  }

  /** One group per period, titled with its one-line result. */
  flush(period: string, title: string): void {
    this.sink.group(this.redact(title), this.linesOf(period))
  }

  private stamp(message: string): string {
    return this.redact(`+${((this.clock.now() - this.start) / 1000).toFixed(1)}s ${message}`)
  }

  private linesOf(period: string): string[] {
    let l = this.lines.get(period)
    if (!l) this.lines.set(period, (l = []))
    return l
  }
}
