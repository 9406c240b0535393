// Which jobs in Clari's list a create call may have made, for when its answer was lost.
// Clari's file names embed the forecast id and the quarter, e.g.
// clari_export_forecast_total_2021_Q12915_20210415_015255.json; the file type, the start
// time and this run's own jobs narrow it down further.
import type { ExportJob } from './clari-client.ts'
import { CURRENT } from './periods.ts'

/** Clari's clock and ours may disagree by this much when matching a job to an attempt. */
export const CLOCK_SKEW_MS = 10_000

export interface CreateAttempt {
  forecastId: string
  period: string
  format: 'JSON' | 'CSV'
  /** When the create call was sent (our clock). */
  since: number
  /** Job ids Clari listed just before the call, when known: none of them is the new job. */
  before?: ReadonlySet<string>
}

export interface RunJobs {
  /** Jobs this run already owns. */
  claimed: ReadonlySet<string>
  /** The explicit quarters of this run: a `current` create never made one of their jobs. */
  explicitPeriods: readonly string[]
}

export function jobsMadeBy(jobs: ExportJob[], attempt: CreateAttempt, run: RunJobs): ExportJob[] {
  return jobs
    .filter(j => {
      const quarter = quarterInFileName(j.fileName, attempt.forecastId)
      if (!quarter || (attempt.period !== CURRENT && quarter !== attempt.period)) return false
      // Without the list from before the call, a `current` create is told from this run's
      // explicit quarters by assuming it made none of them (`before` makes that unnecessary).
      if (attempt.period === CURRENT && !attempt.before && run.explicitPeriods.includes(quarter)) return false
      if (j.fileType && j.fileType.toUpperCase() !== attempt.format) return false
      if (attempt.before?.has(j.jobId)) return false
      return typeof j.startTime === 'number' && j.startTime >= attempt.since - CLOCK_SKEW_MS && !run.claimed.has(j.jobId)
    })
    .sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0))
}

/** The quarter a Clari file name of this forecast embeds, or null when it names none (or another forecast). */
export function quarterInFileName(fileName: string | undefined, forecastId: string): string | null {
  const m = typeof fileName !== 'string' ? null : new RegExp(`^(?:clari_export_)?${escapeRegExp(forecastId)}_(\\d{4}_Q[1-4])`).exec(fileName)
  return m ? m[1] : null
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
