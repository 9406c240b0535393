import { describe, expect, it } from 'vitest'
import { CsvChecker } from '../../src/csv-check.ts'

/** Byte by byte, so quotes and line breaks split across chunks are exercised. */
function check(text: string): { rows: number; problem: string | undefined } {
  const c = new CsvChecker()
  for (const b of Buffer.from(text)) c.write(Uint8Array.of(b))
  const problem = c.end()
  return { rows: c.rows(), problem }
}

describe('CsvChecker', () => {
  it.each([
    ['User,Email\r\na,b\r\nc,d\r\n', 2],
    ['User,Email\na,b\nc,d', 2],
    ['User,Email\n"Zoë ""Z"", Jr.","line\nbreak, and comma"\n', 1],
    ['User,Email\n\na,b\n\n', 1],
    ['Item,Size\nMonitor 27",5\n"quoted ""twice""",x\n', 2],
    ['User,Email\n', 0],
    ['', 0]
  ])('accepts %j with %i data rows', (text, rows) => {
    expect(check(text)).toEqual({ rows, problem: undefined })
  })
  it.each([
    ['<html><body><h1>502 Bad Gateway</h1></body></html>\n', /first line has 1 column/],
    ['User,Email\na,b,c\n', /record 2 has 3 fields where the header has 2/],
    ['User,Email\n"a,b\n', /quoted field is never closed/]
  ])('refuses %j', (text, problem) => {
    expect(check(text).problem).toMatch(problem)
  })
})
