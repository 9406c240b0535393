// Parses the `periods` input: quarters (2024_Q3), ranges (2024_Q3..2025_Q2) and `current`.

export const CURRENT = 'current'
const QUARTER = /^((?:19|2\d)\d\d)_Q([1-4])$/

export class PeriodError extends Error {}

export interface ParsedPeriods {
  periods: string[]
  duplicates: string[]
}

export function parsePeriods(text: string): ParsedPeriods {
  const items = text
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s.length > 0)
  if (items.length === 0) {
    throw new PeriodError('is empty; give at least one period such as 2024_Q3, a range 2024_Q3..2025_Q2, or current')
  }
  const periods: string[] = []
  const duplicates: string[] = []
  for (const item of items) {
    for (const period of expand(item)) {
      if (periods.includes(period)) duplicates.push(period)
      else periods.push(period)
    }
  }
  return { periods, duplicates }
}

function expand(item: string): string[] {
  if (item.toLowerCase() === CURRENT) return [CURRENT]
  const range = item.split('..')
  if (range.length === 2) {
    const from = quarterIndex(range[0].trim())
    const to = quarterIndex(range[1].trim())
    if (to < from) {
      throw new PeriodError(`has a range that runs backwards: "${item}"; write the earlier quarter first, e.g. ${label(to)}..${label(from)}`)
    }
    if (to - from >= 400) throw new PeriodError(`has a range that is too long: "${item}" (${to - from + 1} quarters)`)
    const out: string[] = []
    for (let i = from; i <= to; i++) out.push(label(i))
    return out
  }
  return [label(quarterIndex(item))]
}

function quarterIndex(text: string): number {
  const m = QUARTER.exec(text.replace(/_q(\d)$/, '_Q$1'))
  if (!m) {
    throw new PeriodError(
      `has "${text}", which is not a fiscal quarter; write YYYY_QN with a year from 1900 to 2999 and N from 1 to 4 (e.g. 2024_Q3), a range 2024_Q3..2025_Q2, or current`
    )
  }
  return Number(m[1]) * 4 + Number(m[2]) - 1
}

function label(index: number): string {
  return `${Math.floor(index / 4)}_Q${(index % 4) + 1}`
}
