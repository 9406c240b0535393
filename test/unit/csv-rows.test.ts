import { expect, it } from 'vitest'
import { CsvRowCounter } from '../../src/csv-rows.ts'

it.each([
  ['User,Email\r\na,b\r\nc,d\r\n', 2],
  ['User,Email\na,b\nc,d', 2],
  ['User,Email\n"Zoë ""Z"", Jr.","line\nbreak"\n', 1],
  ['User\n', 0],
  ['', 0]
])('counts the data rows of %j', (text, rows) => {
  const c = new CsvRowCounter()
  // Byte by byte, so quotes and line breaks split across chunks are handled.
  for (const b of Buffer.from(text)) c.write(Uint8Array.of(b))
  expect(c.rows()).toBe(rows)
})
