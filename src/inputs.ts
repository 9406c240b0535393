// Reads and validates every input before the first request. A bad value fails the step
// with a message that names the input, the value and what is allowed.
import * as path from 'node:path'
import { parsePeriods, PeriodError } from './periods.ts'

export const EXPORT_TYPES = ['forecast', 'quota', 'forecast_updated', 'adjustment', 'crm_total', 'crm_closed'] as const
export type ExportType = (typeof EXPORT_TYPES)[number]
export type ExportFormat = 'JSON' | 'CSV'
export type Schedule = 'NONE' | 'ONCE' | 'MAX'
export type FailOn = 'any' | 'all' | 'none'

export interface Config {
  apiKey: string
  forecastId: string
  periods: string[]
  duplicatePeriods: string[]
  typesToExport: ExportType[]
  exportFormat: ExportFormat
  currency?: string
  scopeId?: string
  includeHistorical: boolean
  schedule: Schedule
  /** All durations are milliseconds from here on. */
  delayMs: number
  maxAttempts: number
  pollIntervalMs: number
  maxPollIntervalMs: number
  requestTimeoutMs: number
  maxConcurrentJobs: number | 'auto'
  timeoutMs: number
  failOn: FailOn
  outputDir: string
  uploadArtifact: boolean
  artifactName: string
  retentionDays: number
  compressionLevel: number
  overwrite: boolean
  baseUrl: URL
}

export class InputError extends Error {
  constructor(input: string, problem: string) {
    super(`Input '${input}' ${problem}`)
    this.name = 'InputError'
  }
}

export type GetInput = (name: string) => string

const LOOPBACK = new Set(['localhost', '127.0.0.1'])

export function readConfig(getInput: GetInput, workspace: string): Config {
  const get = (name: string, fallback: string): string => {
    const v = getInput(name).trim()
    return v === '' ? fallback : v
  }
  const required = (name: string, hint: string): string => {
    const v = getInput(name).trim()
    if (!v) throw new InputError(name, `is required; ${hint}`)
    return v
  }

  const apiKey = required('api-key', 'pass your Clari API token from a secret, e.g. api-key: ${{ secrets.CLARI_API_KEY }}')
  // An HTTP header value can carry only visible ASCII; anything else is a copy-paste slip.
  if (!/^[\x21-\x7e]+$/.test(apiKey))
    throw new InputError('api-key', 'contains whitespace or characters outside visible ASCII; copy the Clari API token exactly, without spaces or line breaks')
  const forecastId = required('forecast-id', 'give the forecast tab id from the Clari URL, e.g. forecast_total')
  if (!/^[A-Za-z0-9._~-]+$/.test(forecastId) || /^\.+$/.test(forecastId)) {
    throw new InputError('forecast-id', `is "${forecastId}"; use the forecast tab id from the Clari URL (letters, digits, '.', '_', '-', '~'), e.g. forecast_total`)
  }

  let parsed
  try {
    parsed = parsePeriods(get('periods', 'current'))
  } catch (e) {
    if (e instanceof PeriodError) throw new InputError('periods', e.message)
    throw e
  }

  const types = get('types-to-export', 'forecast,forecast_updated')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
  if (types.length === 0) throw new InputError('types-to-export', `is empty; allowed values: ${EXPORT_TYPES.join(', ')}`)
  for (const t of types) {
    if (!(EXPORT_TYPES as readonly string[]).includes(t)) {
      throw new InputError('types-to-export', `has "${t}"; allowed values (comma-separated): ${EXPORT_TYPES.join(', ')}`)
    }
  }

  const currency = getInput('currency').trim() || undefined
  if (currency !== undefined && !/^[A-Za-z]{3}$/.test(currency)) {
    throw new InputError('currency', `is "${currency}"; use a three-letter ISO 4217 code such as USD, or leave it empty`)
  }

  const baseUrl = parseBaseUrl(get('base-url', 'https://api.clari.com/v4'))
  const pollIntervalMs = seconds(getInput, 'poll-interval', '5', { min: 0.001 })
  const maxPollIntervalMs = seconds(getInput, 'max-poll-interval', '60', { min: 0.001 })
  if (maxPollIntervalMs < pollIntervalMs) {
    throw new InputError('max-poll-interval', `(${maxPollIntervalMs / 1000}) is smaller than 'poll-interval' (${pollIntervalMs / 1000}); make it at least as large`)
  }

  return {
    apiKey,
    forecastId,
    periods: parsed.periods,
    duplicatePeriods: parsed.duplicates,
    typesToExport: [...new Set(types)] as ExportType[],
    exportFormat: oneOf(getInput, 'export-format', 'JSON', ['JSON', 'CSV'], true) as ExportFormat,
    currency: currency?.toUpperCase(),
    scopeId: getInput('scope-id').trim() || undefined,
    includeHistorical: bool(getInput, 'include-historical', false),
    schedule: oneOf(getInput, 'schedule', 'NONE', ['NONE', 'ONCE', 'MAX'], true) as Schedule,
    delayMs: seconds(getInput, 'delay', '0', { min: 0 }),
    maxAttempts: integer(getInput, 'max-attempts', '60', 1, 100000),
    pollIntervalMs,
    maxPollIntervalMs,
    requestTimeoutMs: seconds(getInput, 'request-timeout', '60', { min: 0.001 }),
    maxConcurrentJobs: concurrency(getInput),
    timeoutMs: seconds(getInput, 'timeout', '0', { min: 0 }),
    failOn: oneOf(getInput, 'fail-on', 'any', ['any', 'all', 'none'], false) as FailOn,
    outputDir: outputDir(get('output-dir', 'clari-exports'), workspace),
    uploadArtifact: bool(getInput, 'upload-artifact', true),
    artifactName: artifactName(get('artifact-name', 'clari-exports')),
    retentionDays: integer(getInput, 'retention-days', '0', 0, 90),
    compressionLevel: integer(getInput, 'compression-level', '6', 0, 9),
    overwrite: bool(getInput, 'overwrite', false),
    baseUrl
  }
}

/** The longest duration any input takes: a week, far beyond any GitHub job. */
const MAX_SECONDS = 7 * 24 * 3600

function seconds(getInput: GetInput, name: string, fallback: string, { min }: { min: number }): number {
  const raw = getInput(name).trim() || fallback
  const n = Number(raw)
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(raw) || !Number.isFinite(n) || n < min || n > MAX_SECONDS) {
    throw new InputError(name, `is "${raw}"; give a number of seconds${min > 0 ? ' greater than 0' : ', 0 or more'}, at most ${MAX_SECONDS} (fractions such as 0.5 are allowed)`)
  }
  return n * 1000
}

function integer(getInput: GetInput, name: string, fallback: string, min: number, max: number): number {
  const raw = getInput(name).trim() || fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InputError(name, `is "${raw}"; give a whole number from ${min} to ${max}`)
  }
  return Number(raw)
}

function bool(getInput: GetInput, name: string, fallback: boolean): boolean {
  const raw = getInput(name).trim().toLowerCase()
  if (raw === '') return fallback
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new InputError(name, `is "${getInput(name).trim()}"; use true or false`)
}

function oneOf(getInput: GetInput, name: string, fallback: string, allowed: string[], upper: boolean): string {
  const raw = getInput(name).trim() || fallback
  const v = upper ? raw.toUpperCase() : raw.toLowerCase()
  if (!allowed.includes(v)) throw new InputError(name, `is "${raw}"; allowed values: ${allowed.join(', ')}`)
  return v
}

function concurrency(getInput: GetInput): number | 'auto' {
  const raw = getInput('max-concurrent-jobs').trim() || '1'
  if (raw.toLowerCase() === 'auto') return 'auto'
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) {
    throw new InputError('max-concurrent-jobs', `is "${raw}"; give a whole number from 1 to 100, or auto (use what Clari's /admin/limits says is free)`)
  }
  return Number(raw)
}

function artifactName(name: string): string {
  // The characters the artifact service refuses (the same list actions/upload-artifact checks).
  const bad = [...name].filter(c => '":<>|*?\\/\r\n'.includes(c))
  if (bad.length > 0) {
    const shown = [...new Set(bad)].map(c => JSON.stringify(c)).join(' ')
    throw new InputError('artifact-name', `is "${name}" and contains ${shown}; artifact names cannot contain " : < > | * ? \\ / or line breaks`)
  }
  return name
}

function outputDir(dir: string, workspace: string): string {
  // Only the files this action writes are uploaded, so any folder is safe to use.
  return path.resolve(workspace, dir)
}

function parseBaseUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError('base-url', `is "${raw}", which is not a URL; use https://api.clari.com/v4`)
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InputError('base-url', `is "${raw}"; give only the API root, without credentials, query or fragment, e.g. https://api.clari.com/v4`)
  }
  if (url.hostname.startsWith('[')) {
    throw new InputError('base-url', `is "${raw}"; IPv6 address literals are not supported, use a host name (or 127.0.0.1 for a local simulator)`)
  }
  const loopback = LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new InputError(
      'base-url',
      `is "${raw}"; it must use https (plain http is allowed only for a loopback host such as the local simulator), so the API key never crosses the network unencrypted`
    )
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}
