// Streams one export to disk: a temporary name first, checked (byte count against
// Content-Length, JSON or CSV well-formed), then renamed into place, so a file that exists
// is whole.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CsvChecker } from './csv-check.ts'
import { Aborted, ClariError, messageOf } from './errors.ts'
import { JsonChecker } from './json-check.ts'

export interface SavedFile {
  bytes: number
  sha256: string
  /** Data rows (header excluded) when the format tells them, else null. */
  rows: number | null
}

/**
 * Writes `body` to `dest` via `dest + '.partial'`. Throws ClariError('download') when the
 * stream breaks or ends short (worth another try), ClariError('export') when the bytes
 * arrived whole but are not a valid export (another try would fetch the same bytes).
 * Aborting `signal` stops the download (the run was cut short).
 */
export async function saveResults(body: IncomingMessage, dest: string, format: 'JSON' | 'CSV', signal: AbortSignal): Promise<SavedFile> {
  const partial = `${dest}.partial`
  const expected = body.headers['content-length'] === undefined ? undefined : Number(body.headers['content-length'])
  const hash = createHash('sha256')
  const json = format === 'JSON' ? new JsonChecker() : undefined
  const csv = format === 'CSV' ? new CsvChecker() : undefined
  let bytes = 0
  let badJson: string | undefined
  const inspect = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      hash.update(chunk)
      if (json && !badJson && !json.write(chunk)) badJson = json.end()
      csv?.write(chunk)
      done(null, chunk)
    }
  })
  try {
    try {
      await pipeline(body, inspect, createWriteStream(partial), { signal })
    } catch (e) {
      if (signal.aborted) throw new Aborted()
      throw new ClariError('download', `the download broke after ${bytes} bytes${expected !== undefined ? ` of ${expected}` : ''}: ${messageOf(e)}`)
    }
    if (expected !== undefined && bytes !== expected) {
      throw new ClariError('download', `the download ended after ${bytes} of ${expected} bytes (Content-Length)`)
    }
    if (json) {
      const problem = badJson ?? json.end()
      if (problem) throw new ClariError('export', `Clari served ${bytes} bytes that are not valid JSON (${problem})`)
    }
    const csvProblem = csv?.end()
    if (csvProblem) throw new ClariError('export', `Clari served ${bytes} bytes that are not a valid CSV export: ${csvProblem}`)
    await rename(partial, dest)
  } catch (e) {
    await rm(partial, { force: true })
    throw e
  }
  return { bytes, sha256: hash.digest('hex'), rows: (json ? json.rows() : csv?.rows()) ?? null }
}
