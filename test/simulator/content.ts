// Export file content: deterministic per job (seeded by its jobId), in Clari's
// export shape. Rows cycle through a fixed set of pre-encoded templates, so the
// exact size of any number of rows is plain arithmetic and a 600 MB file can be
// streamed without ever being held in memory.
import { createHash } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { ServedRecord } from './types.ts'

export interface ContentSpec {
  jobId: string
  resolvedPeriod: string
  format: 'JSON' | 'CSV'
  types: string[]
  includeHistorical: boolean
  currency: string
  rows: number
  resultBytes?: number // when set, wins over rows: emit rows until at least this many bytes
}

export interface ContentPlan {
  totalBytes: number
  rowCount: number // data rows, header not included
  contentType: string
  head: Buffer // JSON: '[' + header row; CSV: header line
  cycle: Buffer[] // encoded data rows incl. separator; row i is cycle[i % cycle.length]
  prefix: number[] // prefix[k] = bytes of cycle[0..k)
  tail: Buffer
}

const HEADER = ['User', 'Email', 'CRM User ID', 'Role', 'Parent Role', 'Timeframe', 'Field', 'Week', 'Start Day', 'End Day', 'Data Type', 'Data Value']
const CYCLE = 1024
const CHUNK = 64 * 1024
const MAX_IN_MEMORY = 64 * 1024 * 1024

// Names chosen to break naive CSV/JSON/byte-count handling: commas, quotes,
// apostrophes, accents, CJK and an astral-plane emoji.
const PEOPLE = [
  { name: 'Zoë "Z" O\'Brien, Jr.', email: 'zoe.obrien@sim-clari.com', role: 'Sales Rep - East', parent: 'VP Sales, Americas' },
  { name: 'Jürgen Müller', email: 'juergen.mueller@sim-clari.com', role: 'Sales Rep - DACH', parent: 'VP Sales, EMEA' },
  { name: '李雷', email: 'li.lei@sim-clari.com', role: 'Sales Rep - APAC', parent: 'VP Sales, APAC' },
  { name: 'Jain', email: 'jain@sim-clari.com', role: 'Sales Rep - East', parent: 'CEO' },
  { name: 'María José Núñez', email: 'mj.nunez@sim-clari.com', role: 'Sales Manager "West"', parent: 'CEO' },
  { name: 'Priya Patel 🚀', email: 'priya.patel@sim-clari.com', role: 'Sales Rep - West', parent: 'Sales Manager "West"' },
  { name: "O'Neil, Shaquille", email: 'shaq.oneil@sim-clari.com', role: 'Sales Rep - Central', parent: 'VP Sales, Americas' },
  { name: 'Clari QA10', email: 'manager@sim-clari.com', role: 'CEO', parent: '' }
]
const FIELDS = ['Monthly Commit', 'Best Case', 'Most Likely', 'Pipeline, Weighted']
const TYPE_LABELS: Record<string, string> = { forecast: 'Forecast Value', quota: 'Quota', forecast_updated: 'Forecast Updated', adjustment: 'Adjustment' }
const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥' }
const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

// mulberry32: tiny, fast and good enough for plausible-looking test data.
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function money(amount: number, currency: string): string {
  const [int, cents] = amount.toFixed(2).split('.')
  return `${SYMBOLS[currency] ?? `${currency} `}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`
}

function day(epochMs: number): string {
  const d = new Date(epochMs)
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`
}

// RFC 4180: quote fields holding a comma, quote or line break; double inner quotes.
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

function* rowsFor(spec: ContentSpec, count: number): Generator<string[]> {
  const random = rng(createHash('sha256').update(spec.jobId).digest().readUInt32BE(0))
  const crmIds = PEOPLE.map(() => '005' + Array.from({ length: 15 }, () => ID_CHARS[Math.floor(random() * ID_CHARS.length)]).join(''))
  const [year, quarter] = spec.resolvedPeriod.split('_Q').map(Number)
  const quarterStart = Date.UTC(year, (quarter - 1) * 3, 1)
  const timeframe = `Q${quarter} FY ${year}`
  const types = spec.types.map(t => TYPE_LABELS[t] ?? t)
  const weeks = spec.includeHistorical ? 13 : 1
  const currentWeek = 1 + Math.floor(random() * 13)
  for (let j = 0; j < count; j++) {
    // People vary fastest so that even a few rows show every tricky name.
    const p = j % PEOPLE.length
    const f = Math.floor(j / PEOPLE.length) % FIELDS.length
    const t = Math.floor(j / (PEOPLE.length * FIELDS.length)) % types.length
    const w = spec.includeHistorical ? 1 + (Math.floor(j / (PEOPLE.length * FIELDS.length * types.length)) % weeks) : currentWeek
    const start = quarterStart + (w - 1) * 7 * 86_400_000
    const type = types[t]
    const value = type === 'Forecast Updated' ? (random() < 0.5 ? 'Yes' : 'No') : money(Math.floor(random() * 500_000_000) / 100, spec.currency)
    const person = PEOPLE[p]
    yield [person.name, person.email, crmIds[p], person.role, person.parent, timeframe, FIELDS[f], String(w), day(start), day(start + 6 * 86_400_000), type, value]
  }
}

function encodeRow(row: string[], format: 'JSON' | 'CSV'): string {
  return format === 'JSON' ? JSON.stringify(row) : row.map(csvField).join(',')
}

export function planContent(spec: ContentSpec): ContentPlan {
  const json = spec.format === 'JSON'
  const head = Buffer.from(json ? `[${encodeRow(HEADER, 'JSON')}` : `${encodeRow(HEADER, 'CSV')}\r\n`)
  const tail = Buffer.from(json ? ']\n' : '')
  const templates = spec.resultBytes !== undefined ? CYCLE : Math.max(1, Math.min(CYCLE, spec.rows))
  const cycle: Buffer[] = []
  const prefix = [0]
  for (const row of rowsFor(spec, templates)) {
    const buf = Buffer.from(json ? `,\n${encodeRow(row, 'JSON')}` : `${encodeRow(row, 'CSV')}\r\n`)
    cycle.push(buf)
    prefix.push(prefix[prefix.length - 1] + buf.length)
  }
  const cycleBytes = prefix[cycle.length]
  const fixed = head.length + tail.length
  let rowCount = spec.rows
  if (spec.resultBytes !== undefined) {
    // Smallest row count whose total reaches resultBytes.
    const need = spec.resultBytes - fixed
    if (need <= 0) rowCount = 0
    else {
      const full = Math.floor(need / cycleBytes)
      const rest = need - full * cycleBytes
      rowCount = full * cycle.length + (rest === 0 ? 0 : prefix.findIndex(b => b >= rest))
    }
  }
  const full = Math.floor(rowCount / cycle.length)
  const totalBytes = fixed + full * cycleBytes + prefix[rowCount - full * cycle.length]
  const contentType = json ? 'application/json' : 'text/csv; charset=utf-8'
  return { totalBytes, rowCount, contentType, head, cycle, prefix, tail }
}

function* pieces(plan: ContentPlan): Generator<Buffer> {
  yield plan.head
  for (let i = 0; i < plan.rowCount; i++) yield plan.cycle[i % plan.cycle.length]
  yield plan.tail
}

export function renderContent(plan: ContentPlan): Buffer {
  if (plan.totalBytes > MAX_IN_MEMORY) throw new Error(`content is ${plan.totalBytes} bytes; too large to hold in memory, stream it instead`)
  return Buffer.concat([...pieces(plan)], plan.totalBytes)
}

// Writes the content (or its first `limit` bytes) in ~64 KB chunks, waiting for
// 'drain' so memory stays bounded whatever the client's read speed. Ends the
// response when complete; when cut short on purpose, waits until the bytes are
// flushed and then destroys the socket, so the client sees a short body.
export async function streamContent(plan: ContentPlan, res: ServerResponse, limit = plan.totalBytes): Promise<ServedRecord> {
  const hash = createHash('sha256')
  let bytes = 0
  let gone = false
  const onClose = (): void => {
    gone = true
  }
  res.on('close', onClose)
  // Resolves on 'drain' (or on the write's flush callback), or when the client is gone.
  const settle = (buf: Buffer, flush: boolean): Promise<void> =>
    new Promise(resolve => {
      const done = (): void => {
        res.off('drain', done)
        res.off('close', done)
        resolve()
      }
      res.on('close', done)
      if (flush) res.write(buf, done)
      else if (res.write(buf)) done()
      else res.on('drain', done)
    })
  const write = async (buf: Buffer, flush: boolean): Promise<void> => {
    if (gone || res.destroyed) return
    hash.update(buf)
    bytes += buf.length
    await settle(buf, flush)
  }

  let batch: Buffer[] = []
  let batchBytes = 0
  for (const piece of pieces(plan)) {
    const room = limit - bytes - batchBytes
    const part = piece.length > room ? piece.subarray(0, room) : piece
    batch.push(part)
    batchBytes += part.length
    const atLimit = bytes + batchBytes >= limit
    if (batchBytes >= CHUNK || atLimit) {
      await write(Buffer.concat(batch, batchBytes), atLimit && limit < plan.totalBytes)
      batch = []
      batchBytes = 0
    }
    if (atLimit || gone) break
  }
  if (batchBytes > 0) await write(Buffer.concat(batch, batchBytes), false)
  res.off('close', onClose)

  const complete = !gone && bytes === plan.totalBytes
  if (complete) res.end()
  else if (!gone) res.destroy()
  return { bytes, sha256: hash.digest('hex'), complete }
}
