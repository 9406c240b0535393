import { describe, expect, it } from 'vitest'
import { parsePeriods } from '../../src/periods.ts'

describe('parsePeriods', () => {
  it('reads quarters, current, commas and lines', () => {
    expect(parsePeriods('2024_Q3, current\n2025_Q1').periods).toEqual(['2024_Q3', 'current', '2025_Q1'])
  })
  it('expands ranges in order, rolling Q4 into the next year', () => {
    expect(parsePeriods('2024_Q3..2025_Q2').periods).toEqual(['2024_Q3', '2024_Q4', '2025_Q1', '2025_Q2'])
    expect(parsePeriods('2024_Q1..2024_Q1').periods).toEqual(['2024_Q1'])
  })
  it('takes a lower-case q', () => {
    expect(parsePeriods('2024_q3..2024_Q4').periods).toEqual(['2024_Q3', '2024_Q4'])
  })
  it('drops duplicates and reports them', () => {
    const p = parsePeriods('2024_Q3..2024_Q4, 2024_Q4, CURRENT, current')
    expect(p.periods).toEqual(['2024_Q3', '2024_Q4', 'current'])
    expect(p.duplicates).toEqual(['2024_Q4', 'current'])
  })
  it.each([
    ['', /empty/],
    [' , \n', /empty/],
    ['2024-Q1', /"2024-Q1", which is not a fiscal quarter/],
    ['2024_Q5', /"2024_Q5"/],
    ['2024_Q0', /"2024_Q0"/],
    ['24_Q1', /"24_Q1"/],
    ['2025_Q2..2024_Q3', /runs backwards.*2024_Q3\.\.2025_Q2/],
    ['2024_Q1..', /""/],
    ['2024_Q1..2024_Q2..2024_Q3', /not a fiscal quarter/],
    ['1899_Q4', /year from 1900 to 2999/]
  ])('refuses %j', (text, message) => {
    expect(() => parsePeriods(text)).toThrow(message)
  })
})
