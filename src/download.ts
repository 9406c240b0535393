// Streams one export to disk: a temporary name first, checked (byte count against
// Content-Length, JSON well-formed), then renamed into place, so a file that exists is whole.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CsvRowCounter } from './csv-rows.ts'
import { ClariError, messageOf } from './errors.ts'
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
 * arrived whole but are not valid JSON (another try would fetch the same bytes).
 */
export async function saveResults(body: IncomingMessage, dest: string, checkJson: boolean): Promise<SavedFile> {
  const partial = `${dest}.partial`
  const expected = body.headers['content-length'] === undefined ? undefined : Number(body.headers['content-length'])
  const hash = createHash('sha256')
  const json = checkJson ? new JsonChecker() : undefined
  const csv = checkJson ? undefined : new CsvRowCounter()
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
      await pipeline(body, inspect, createWriteStream(partial))
    } catch (e) {
      throw new ClariError('download', `the download broke after ${bytes} bytes${expected !== undefined ? ` of ${expected}` : ''}: ${messageOf(e)}`)
    }
    if (expected !== undefined && bytes !== expected) {
      throw new ClariError('download', `the download ended after ${bytes} of ${expected} bytes (Content-Length)`)
    }
    if (json) {
      const problem = badJson ?? json.end()
      if (problem) throw new ClariError('export', `Clari served ${bytes} bytes that are not valid JSON (${problem})`)
    }
    await rename(partial, dest)
  } catch (e) {
    await rm(partial, { force: true })
    throw e
  }
  return { bytes, sha256: hash.digest('hex'), rows: (json ? json.rows() : csv?.rows()) ?? null }
}
