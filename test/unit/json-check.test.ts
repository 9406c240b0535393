import { describe, expect, it } from 'vitest'
import { JsonChecker } from '../../src/json-check.ts'

function check(text: string, chunk = 3): string | undefined {
  const c = new JsonChecker()
  const bytes = Buffer.from(text)
  for (let i = 0; i < bytes.length; i += chunk) if (!c.write(bytes.subarray(i, i + chunk))) break
  return c.end()
}

describe('JsonChecker', () => {
  it.each([
    '[]',
    '{}',
    ' [ ["User","Email"], ["Zoë \\"Z\\" O\'Brien, Jr.","李雷"] ] ',
    '{"a":[1,-2.5e+3,0,0.1,1E5,true,false,null],"b":{"c":"\\u00e9\\n"}}',
    '0',
    '-0.0e-0',
    '"x"',
    'null'
  ])('accepts %s', text => {
    expect(check(text)).toBeUndefined()
    expect(check(text, 1)).toBeUndefined()
  })
  it.each([
    ['', /ends early/],
    ['[1,2', /ends early/],
    ['[["a","b"],["c"', /ends early/],
    ['{"a":1,}', /expected a string key/],
    ['[1,]', /where a value should start/],
    ['[01]', /expected ','/],
    ['[1.]', /bad number/],
    ['[-]', /bad number/],
    ['[1e]', /bad number/],
    ['{"a" 1}', /expected ':'/],
    ['[tru]', /expected true/],
    ['["a\\x"]', /bad escape/],
    ['["\\u12g4"]', /bad \\u escape/],
    ['["a\tb"]', /control character/],
    ['[1] [2]', /data after the end/],
    ['[1}', /unexpected '}'/],
    ['<html>', /where a value should start/]
  ])('refuses %j', (text, message) => {
    expect(check(text)).toMatch(message)
  })
  it("counts the data rows of Clari's table shape", () => {
    const rows = (text: string): number | undefined => {
      const c = new JsonChecker()
      c.write(Buffer.from(text))
      c.end()
      return c.rows()
    }
    expect(rows('[["User","Email"],["a","b"],["c,\\"d","e"]]')).toBe(2)
    expect(rows('[["User"]]')).toBe(0)
    expect(rows('["User","Email"]')).toBeUndefined()
    expect(rows('{"rows":[]}')).toBeUndefined()
  })

  it('refuses invalid UTF-8', () => {
    const c = new JsonChecker()
    c.write(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]))
    expect(c.end()).toMatch(/UTF-8/)
  })
})
