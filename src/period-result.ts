// What the run records about one period: the manifest entry, plus timings for the summary.
export type FinalStatus = 'DONE' | 'FAILED' | 'CANCELLED' | 'ABORTED' | 'ERROR'

export interface PeriodResult {
  period: string
  /** The fiscal quarter exported: the period itself, or for `current` the one Clari chose (from the job's file name). */
  quarter: string | null
  status: FinalStatus
  jobId: string | null
  /** Relative to the manifest; null when no file was written. */
  file: string | null
  bytes: number | null
  /** Data rows in the export (header excluded), when its format tells. */
  rows: number | null
  sha256: string | null
  startedAt: string | null
  finishedAt: string | null
  polls: number
  error: string | null
  /** Seconds the job sat queued (SCHEDULED) and ran, as far as polling could tell (queued is null when no check saw it running). */
  queuedSeconds: number | null
  runSeconds: number | null
}

export function emptyResult(period: string): PeriodResult {
  return {
    period,
    quarter: null,
    status: 'ERROR',
    jobId: null,
    file: null,
    bytes: null,
    rows: null,
    sha256: null,
    startedAt: null,
    finishedAt: null,
    polls: 0,
    error: null,
    queuedSeconds: null,
    runSeconds: null
  }
}
