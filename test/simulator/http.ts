// Small HTTP helpers shared by the API and storage hosts: Clari-shaped error
// bodies, JSON answers that also fill in the request record, body reading.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { RequestRecord } from './types.ts'

// The simulated tenant. OpenAPI types both as integers.
export const ORG_ID = 101
export const USER_ID = 1

export interface ErrorBody {
  code: string
  namespace: string
  errorId: string
  message: string
  orgId: number
}

export function errorBody(code: string, namespace: string, message: string): ErrorBody {
  return { code, namespace, errorId: randomUUID(), message, orgId: ORG_ID }
}

export function sendJson(res: ServerResponse, rec: RequestRecord, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
  rec.status = status
}

export function sendError(res: ServerResponse, rec: RequestRecord, status: number, code: string, namespace: string, message: string, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, rec, status, errorBody(code, namespace, message), headers)
}

// Destroy the connection without a byte of answer; the record keeps status 0.
export function drop(req: IncomingMessage, rec: RequestRecord): void {
  rec.status = 0
  req.socket.destroy()
}

// Request bodies here are tiny JSON documents; cap what we keep so a runaway
// client cannot balloon the simulator's memory.
export function readBody(req: IncomingMessage, max = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      if (size + chunk.length <= max) chunks.push(chunk)
      size += chunk.length
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export type Parsed = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'text'; value: string }

export function parseBody(raw: Buffer): Parsed {
  const text = raw.toString('utf8')
  if (text.trim() === '') return { kind: 'empty' }
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown }
  } catch {
    return { kind: 'text', value: text }
  }
}

// The record is meant to be printed and asserted on, so the key never lands in it.
export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const copy: Record<string, string | string[] | undefined> = { ...headers }
  if ('apikey' in copy) copy['apikey'] = '<redacted>'
  return copy
}

export function newRecord(req: IncomingMessage, startedAt: number, path: string, query: string): RequestRecord {
  return {
    at: Date.now() - startedAt,
    method: req.method ?? 'GET',
    path,
    route: 'unknown',
    query,
    headers: redactHeaders(req.headers),
    hadApiKey: req.headers['apikey'] !== undefined,
    status: 0
  }
}

// Delta-seconds as sent in headers: integers stay integers, fractions keep ms precision (rounded up).
export function formatSeconds(seconds: number): string {
  const ms = Math.ceil(Math.max(0, seconds) * 1000 - 1e-6)
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toString()
}
