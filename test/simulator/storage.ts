// The second ("storage") host that results downloads may be redirected to.
// It authenticates by a signed URL, like a cloud bucket, and records whether a
// client wrongly forwarded its Clari apikey to it.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { newRecord } from './http.ts'
import type { RequestRecord } from './types.ts'

export function signBlob(secret: Buffer, jobId: string): string {
  return createHmac('sha256', secret).update(jobId).digest('hex')
}

function validSignature(secret: Buffer, jobId: string, sig: string | null): boolean {
  const expected = Buffer.from(signBlob(secret, jobId))
  const given = Buffer.from(sig ?? '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export interface StorageDeps {
  startedAt: number
  records: RequestRecord[]
  secret: Buffer
  // Serves the job's content if the job exists and is DONE; false otherwise.
  serve(jobId: string, res: ServerResponse, rec: RequestRecord): Promise<boolean>
}

function plain(res: ServerResponse, rec: RequestRecord, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
  rec.status = status
}

export function storageHandler(deps: StorageDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://storage')
    const rec = newRecord(req, deps.startedAt, url.pathname, url.search.slice(1))
    rec.route = 'storage'
    deps.records.push(rec)
    req.resume()
    const match = /^\/blobs\/([0-9a-f]{24})$/.exec(url.pathname)
    if (req.method !== 'GET' || !match) return plain(res, rec, 404, 'NoSuchKey')
    if (!validSignature(deps.secret, match[1], url.searchParams.get('sig'))) return plain(res, rec, 403, 'SignatureDoesNotMatch')
    if (!(await deps.serve(match[1], res, rec))) plain(res, rec, 404, 'NoSuchKey')
  }
}
