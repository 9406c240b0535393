import { expect, it } from 'vitest'
import { Redactor } from '../../src/redact.ts'

it('redacts the key as is, URL-encoded and JSON-escaped', () => {
  const r = new Redactor()
  r.add('s3cr/t"k+y')
  expect(r.redact('a s3cr/t"k+y b s3cr%2Ft%22k%2By c s3cr/t\\"k+y')).toBe('a *** b *** c ***')
})
