import { describe, expect, it } from 'vitest'
import { emptyResult, type PeriodResult } from '../../src/period-result.ts'
import { verdict } from '../../src/verdict.ts'

const result = (period: string, status: PeriodResult['status']): PeriodResult => ({ ...emptyResult(period), status })
const someFailed = [result('2025_Q1', 'DONE'), result('2025_Q2', 'FAILED')]
const allFailed = [result('2025_Q1', 'ERROR'), result('2025_Q2', 'FAILED')]
const base = { outputDir: '/ws/out', uncancelled: [] }

describe('verdict', () => {
  it.each([
    ['any', someFailed, 1],
    ['all', someFailed, 0],
    ['none', someFailed, 0],
    ['any', allFailed, 1],
    ['all', allFailed, 1],
    ['none', allFailed, 0]
  ] as const)('fail-on %s with %j', (failOn, results, code) => {
    expect(verdict({ ...base, results: [...results], failOn }).code).toBe(code)
  })

  it('a cut-short run fails whatever fail-on says, and names what may still run', () => {
    const v = verdict({ ...base, results: someFailed, failOn: 'none', stoppedBecause: 'out of time (timeout: 60 s)', uncancelled: [{ period: '2025_Q2', jobId: 'j2' }] })
    expect(v.code).toBe(1)
    expect(v.error).toBe(
      'The run was out of time (timeout: 60 s). Periods not exported: 2025_Q2. Jobs that may still run in Clari, to cancel there: 2025_Q2 (j2); what finished is in /ws/out and the manifest.'
    )
  })

  it('an upload failure fails the step even when every period succeeded', () => {
    expect(verdict({ ...base, results: [result('2025_Q1', 'DONE')], failOn: 'any', uploadError: 'Uploading failed' })).toEqual({ code: 1, error: 'Uploading failed' })
  })

  it('warns when periods failed but fail-on lets the step pass', () => {
    expect(verdict({ ...base, results: someFailed, failOn: 'none' }).warning).toBe('1 period(s) failed (2025_Q2), but fail-on is none')
  })
})
