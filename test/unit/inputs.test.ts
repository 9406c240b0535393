import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/inputs.ts'

const base = { 'api-key': 'k-123', 'forecast-id': 'forecast_total' }
const read = (inputs: Record<string, string>) => readConfig(n => inputs[n] ?? '', '/ws')

describe('readConfig', () => {
  it('applies the documented defaults', () => {
    const c = read(base)
    expect(c).toMatchObject({
      periods: ['current'],
      typesToExport: ['forecast', 'forecast_updated'],
      exportFormat: 'JSON',
      includeHistorical: false,
      schedule: 'NONE',
      delayMs: 0,
      maxAttempts: 60,
      pollIntervalMs: 5000,
      maxPollIntervalMs: 60000,
      maxConcurrentJobs: 1,
      timeoutMs: 0,
      failOn: 'any',
      outputDir: '/ws/clari-exports',
      uploadArtifact: true,
      artifactName: 'clari-exports',
      retentionDays: 0,
      compressionLevel: 6,
      overwrite: false
    })
    expect(c.baseUrl.href).toBe('https://api.clari.com/v4/')
    expect(c.currency).toBeUndefined()
  })
  it('accepts fractional seconds, auto, case-insensitive enums and loopback http', () => {
    const c = read({
      ...base,
      'poll-interval': '0.05',
      'max-poll-interval': '.5',
      delay: '0.25',
      'max-concurrent-jobs': 'AUTO',
      'export-format': 'csv',
      schedule: 'once',
      'base-url': 'http://127.0.0.1:8080/prefix/v4'
    })
    expect(c.pollIntervalMs).toBe(50)
    expect(c.maxPollIntervalMs).toBe(500)
    expect(c.delayMs).toBe(250)
    expect(c.maxConcurrentJobs).toBe('auto')
    expect(c.exportFormat).toBe('CSV')
    expect(c.schedule).toBe('ONCE')
    expect(c.baseUrl.href).toBe('http://127.0.0.1:8080/prefix/v4/')
  })

  // Each bad value fails naming the input, before any request is made.
  it.each([
    ['api-key', '', /Input 'api-key' is required/],
    ['api-key', 'a b', /'api-key' contains whitespace/],
    ['forecast-id', '', /Input 'forecast-id' is required/],
    ['forecast-id', 'a/b', /'forecast-id' is "a\/b"/],
    ['periods', '2024-Q1', /'periods' has "2024-Q1"/],
    ['periods', '2024_Q5', /'periods' has "2024_Q5"/],
    ['periods', '2025_Q1..2024_Q1', /'periods' has a range that runs backwards/],
    ['types-to-export', 'forecast,bogus', /'types-to-export' has "bogus"; allowed values/],
    ['export-format', 'XML', /'export-format' is "XML"; allowed values: JSON, CSV/],
    ['currency', 'dollars', /'currency' is "dollars"/],
    ['include-historical', 'yes', /'include-historical' is "yes"; use true or false/],
    ['schedule', 'ALWAYS', /'schedule' is "ALWAYS"; allowed values: NONE, ONCE, MAX/],
    ['delay', '-1', /'delay' is "-1"; give a number of seconds, 0 or more/],
    ['delay', 'soon', /'delay' is "soon"/],
    ['max-attempts', '0', /'max-attempts' is "0"; give a whole number from 1/],
    ['max-attempts', '2.5', /'max-attempts' is "2.5"/],
    ['poll-interval', '0', /'poll-interval' is "0"; give a number of seconds greater than 0/],
    ['poll-interval', 'NaN', /'poll-interval' is "NaN"/],
    ['max-poll-interval', '1', /'max-poll-interval' \(1\) is smaller than 'poll-interval' \(5\)/],
    ['max-concurrent-jobs', '0', /'max-concurrent-jobs' is "0".*or auto/],
    ['max-concurrent-jobs', 'many', /'max-concurrent-jobs' is "many"/],
    ['timeout', '-5', /'timeout' is "-5"/],
    ['fail-on', 'some', /'fail-on' is "some"; allowed values: any, all, none/],
    ['upload-artifact', 'maybe', /'upload-artifact' is "maybe"/],
    ['artifact-name', 'a/b', /'artifact-name' is "a\/b" and contains "\/"/],
    ['artifact-name', 'x:y*z', /'artifact-name' .*":" "\*"/],
    ['retention-days', '91', /'retention-days' is "91"; give a whole number from 0 to 90/],
    ['retention-days', '-1', /'retention-days' is "-1"/],
    ['compression-level', '10', /'compression-level' is "10"; give a whole number from 0 to 9/],
    ['overwrite', '1', /'overwrite' is "1"; use true or false/],
    ['base-url', 'http://api.clari.com/v4', /'base-url' .* must use https/],
    ['base-url', 'not a url', /'base-url' is "not a url", which is not a URL/],
    ['base-url', 'https://u:p@api.clari.com/v4', /'base-url' .*without credentials/]
  ])('refuses %s = %j', (input, value, message) => {
    expect(() => read({ ...base, [input]: value })).toThrow(message)
  })
})
