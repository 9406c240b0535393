// How the step ends: the exit status and the one error (or warning) that says why.
// A cancel or timeout always fails the step; then a manifest or upload failure; then fail-on.
import type { FailOn } from './inputs.ts'
import type { PeriodResult } from './period-result.ts'

export interface VerdictInput {
  results: PeriodResult[]
  failOn: FailOn
  outputDir: string
  /** Set when the run was cut short: why. */
  stoppedBecause?: string
  uncancelled: { period: string; jobId: string }[]
  fatal?: string
  manifestError?: string
  uploadError?: string
}

export interface Verdict {
  code: 0 | 1
  error?: string
  warning?: string
}

export function verdict(v: VerdictInput): Verdict {
  const failed = v.results.filter(r => r.status !== 'DONE').map(r => r.period)
  if (v.stoppedBecause) {
    const cancels = v.uncancelled.length
      ? `Jobs that may still run in Clari, to cancel there: ${v.uncancelled.map(j => `${j.period} (${j.jobId})`).join(', ')}`
      : 'Jobs still running in Clari were cancelled'
    return {
      code: 1,
      error: `The run was ${v.stoppedBecause}. Periods not exported: ${failed.join(', ') || 'none'}. ${cancels}; what finished is in ${v.outputDir} and the manifest.`
    }
  }
  if (v.manifestError || v.uploadError) return { code: 1, error: v.manifestError ?? v.uploadError }
  const fail = v.failOn === 'any' ? failed.length > 0 : v.failOn === 'all' ? failed.length === v.results.length : false
  if (fail) {
    return {
      code: 1,
      error: v.fatal ?? `${failed.length} of ${v.results.length} period(s) failed: ${failed.join(', ')} (fail-on: ${v.failOn}); see the manifest and the job summary`
    }
  }
  if (failed.length > 0) return { code: 0, warning: `${failed.length} period(s) failed (${failed.join(', ')}), but fail-on is ${v.failOn}` }
  return { code: 0 }
}
