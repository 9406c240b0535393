/**
 * Loopback stand-in for GitHub's artifact backend ("results service"), good enough for
 * `@actions/artifact` v6 (`DefaultArtifactClient`) to upload, list, get, delete and
 * download artifacts against it.
 *
 * It serves two things on one `http://127.0.0.1:<port>` origin:
 *
 *  - Twirp JSON: `POST /twirp/github.actions.results.api.v1.ArtifactService/<Method>`
 *    (CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact).
 *    Requests arrive with proto field names (snake_case; int64 and wrapper values as JSON
 *    strings, Timestamps as RFC 3339). Responses use the same casing, which the generated
 *    client's `fromJson` accepts.
 *  - A tiny Azure Blob emulation under `/<account>/<container>/<blob>?sig=...` (the path
 *    style `@azure/storage-blob` uses for IP hosts): Put Block (`comp=block`), Put Block List
 *    (`comp=blocklist`), Put Blob (single PUT) and Get Blob.
 *
 * Semantics modelled on the real service:
 *  - Artifact names are unique per workflow run. CreateArtifact on a name that has a
 *    non-deleted artifact (finalized or not) fails with Twirp `already_exists` / HTTP 409
 *    "an artifact with this name already exists on the workflow run".
 *  - ListArtifacts only returns finalized, non-deleted artifacts, so an artifact whose
 *    finalize failed still reserves its name but cannot be found (and so not deleted)
 *    through the client; that is what happens on GitHub too.
 *  - DeleteArtifact marks the artifact deleted; the name becomes free again.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { unzipSync, zipSync } from 'fflate'

export interface StoredArtifact {
  id: number
  name: string
  /** bytes: the size FinalizeArtifact reported, or the committed blob length before finalize */
  size: number
  finalized: boolean
  /** whole days between CreateArtifact and the `expires_at` it sent; undefined if none sent */
  retentionDays?: number
  /** the committed blob (the zip); empty until the blob upload is committed */
  zip: Buffer
  /** unzipped entries, path → bytes (directory entries are left out) */
  files(): Record<string, Buffer>
  deleted: boolean
  // --- extras, beyond the brief ---
  /** `expires_at` exactly as sent, parsed */
  expiresAt?: Date
  createdAt: Date
  /** the `mime_type` sent with CreateArtifact (e.g. application/zip) */
  mimeType?: string
  /** the `hash` FinalizeArtifact sent, e.g. `sha256:<hex>` */
  digest?: string
  /** the `version` CreateArtifact sent (7 for @actions/artifact v6) */
  version?: number
  /** Content-Type the blob was committed with */
  blobContentType?: string
  workflowRunBackendId: string
  workflowJobRunBackendId: string
  /** true for artifacts made with seed() */
  seeded: boolean
}

export interface BlobCall {
  method: string
  /** 'block' | 'blocklist' | 'blob' (single Put Blob) | 'get' */
  op: string
  artifactId?: number
  bytes: number
  status: number
}

export interface ArtifactBackend {
  /** value for ACTIONS_RESULTS_URL (with trailing slash) */
  url: string
  /** value for ACTIONS_RUNTIME_TOKEN */
  token: string
  /** every env var the child needs for uploads to work */
  env: Record<string, string>
  /** everything ever created, including deleted ones (and ones never finalized) */
  artifacts: StoredArtifact[]
  /** every Twirp call, in order (including ones failed by failNext or rejected) */
  calls: { method: string; body: unknown }[]
  /** every blob-storage request, in order */
  blobCalls: BlobCall[]
  workflowRunBackendId: string
  workflowJobRunBackendId: string
  /** a pre-existing, finalized artifact on this run (a re-run / an earlier job) */
  seed(name: string, files: Record<string, Buffer | string>): StoredArtifact
  /**
   * Make the next Twirp call of `method` (e.g. 'CreateArtifact') fail with `status` and a
   * Twirp error body. `method` may also be 'BlobUpload', which fails the next blob PUT.
   * Note: the Twirp client retries 500/502/503/504/429 (5 attempts, 3 s base backoff), so a
   * single injected 5xx only slows the call down; 4xx fail at once. `msg` defaults to
   * "injected failure"; a msg containing "insufficient usage" makes the client throw its
   * UsageError (quota).
   */
  failNext(method: string, status: number, msg?: string): void
  close(): Promise<void>
}

const SERVICE = 'github.actions.results.api.v1.ArtifactService'
const ACCOUNT = 'devstoreaccount1'
const CONTAINER = 'actions-results'
const DAY_MS = 24 * 60 * 60 * 1000

const TWIRP_CODES: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  408: 'deadline_exceeded',
  409: 'already_exists',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  500: 'internal',
  501: 'unimplemented',
  503: 'unavailable',
  504: 'deadline_exceeded'
}

class TwirpError extends Error {
  status: number
  code: string
  constructor(status: number, code: string, msg: string) {
    super(msg)
    this.status = status
    this.code = code
  }
}

function base64url(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url')
}

/** An unsigned JWT (`alg: none`) carrying the Actions.Results scope that util.js decodes. */
function mintRuntimeToken(runId: string, jobId: string): string {
  const now = Math.floor(Date.now() / 1000)
  const header = { typ: 'JWT', alg: 'none' }
  const payload = {
    scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`,
    iss: 'loopback-artifact-backend',
    aud: 'vstoken.actions.githubusercontent.com',
    nbf: now - 60,
    iat: now,
    exp: now + 6 * 60 * 60
  }
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.`
}

function unzipEntries(zip: Buffer): Record<string, Buffer> {
  if (zip.length === 0) return {}
  const out: Record<string, Buffer> = {}
  for (const [path, bytes] of Object.entries(unzipSync(new Uint8Array(zip)))) {
    if (path.endsWith('/')) continue
    out[path] = Buffer.from(bytes)
  }
  return out
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  // tolerate the wrapper written as an object ({ value: ... })
  if (value && typeof value === 'object' && 'value' in value) return str((value as { value: unknown }).value)
  return undefined
}

function uuid(): string {
  return randomUUID()
}

interface ArtifactRecord extends StoredArtifact {
  sig: string
  blobName: string
  blocks: Map<string, Buffer>
  committed: boolean
}

export async function startArtifactBackend(): Promise<ArtifactBackend> {
  const workflowRunBackendId = uuid()
  const workflowJobRunBackendId = uuid()
  const token = mintRuntimeToken(workflowRunBackendId, workflowJobRunBackendId)
  const records: ArtifactRecord[] = []
  const calls: { method: string; body: unknown }[] = []
  const blobCalls: BlobCall[] = []
  const failures = new Map<string, { status: number; msg: string }[]>()
  let nextId = 1001
  let origin = ''

  function takeFailure(method: string): { status: number; msg: string } | undefined {
    const queue = failures.get(method)
    const f = queue?.shift()
    if (queue && queue.length === 0) failures.delete(method)
    return f
  }

  function makeRecord(name: string, jobId: string, createdAt: Date, seeded: boolean): ArtifactRecord {
    const id = nextId++
    const record: ArtifactRecord = {
      id,
      name,
      size: 0,
      finalized: false,
      zip: Buffer.alloc(0),
      files() {
        return unzipEntries(this.zip)
      },
      deleted: false,
      createdAt,
      workflowRunBackendId,
      workflowJobRunBackendId: jobId,
      seeded,
      sig: randomBytes(16).toString('base64url'),
      blobName: `${workflowRunBackendId}/${id}.zip`,
      blocks: new Map(),
      committed: false
    }
    records.push(record)
    return record
  }

  function live(name: string): ArtifactRecord | undefined {
    return records.find(r => !r.deleted && r.name === name && r.workflowRunBackendId === workflowRunBackendId)
  }

  function signedUrl(r: ArtifactRecord): string {
    const se = new Date(Date.now() + DAY_MS).toISOString()
    return `${origin}/${ACCOUNT}/${CONTAINER}/${r.blobName}?sv=2023-11-03&se=${encodeURIComponent(se)}&sr=b&sp=rcw&sig=${encodeURIComponent(r.sig)}`
  }

  function checkRun(body: Record<string, unknown>): void {
    const runId = str(body['workflow_run_backend_id'])
    const jobId = str(body['workflow_job_run_backend_id'])
    if (!runId || !jobId) {
      throw new TwirpError(400, 'invalid_argument', 'workflow_run_backend_id and workflow_job_run_backend_id are required')
    }
    if (runId !== workflowRunBackendId) {
      throw new TwirpError(403, 'permission_denied', 'token is not valid for this workflow run')
    }
  }

  const handlers: Record<string, (body: Record<string, unknown>) => unknown> = {
    CreateArtifact(body) {
      checkRun(body)
      const name = str(body['name'])
      if (!name) throw new TwirpError(400, 'invalid_argument', 'name is required')
      if (live(name)) {
        throw new TwirpError(409, 'already_exists', 'an artifact with this name already exists on the workflow run')
      }
      const now = new Date()
      const r = makeRecord(name, str(body['workflow_job_run_backend_id']) ?? workflowJobRunBackendId, now, false)
      const expires = str(body['expires_at'])
      if (expires) {
        const at = new Date(expires)
        if (Number.isNaN(at.getTime())) throw new TwirpError(400, 'invalid_argument', 'invalid expires_at')
        r.expiresAt = at
        r.retentionDays = Math.round((at.getTime() - now.getTime()) / DAY_MS)
      }
      r.mimeType = str(body['mime_type'])
      if (typeof body['version'] === 'number') r.version = body['version']
      return { ok: true, signed_upload_url: signedUrl(r) }
    },
    FinalizeArtifact(body) {
      checkRun(body)
      const name = str(body['name']) ?? ''
      const r = live(name)
      if (!r) throw new TwirpError(404, 'not_found', `artifact ${name} not found`)
      if (r.finalized) throw new TwirpError(412, 'failed_precondition', 'artifact is already finalized')
      if (!r.committed) {
        throw new TwirpError(412, 'failed_precondition', 'artifact blob has not been uploaded')
      }
      const size = str(body['size'])
      r.size = size !== undefined ? Number(size) : r.zip.length
      r.digest = str(body['hash'])
      r.finalized = true
      return { ok: true, artifact_id: String(r.id) }
    },
    ListArtifacts(body) {
      checkRun(body)
      const nameFilter = str(body['name_filter'])
      const idFilter = str(body['id_filter'])
      const artifacts = records
        .filter(r => r.finalized && !r.deleted && r.workflowRunBackendId === workflowRunBackendId)
        .filter(r => nameFilter === undefined || r.name === nameFilter)
        .filter(r => idFilter === undefined || String(r.id) === idFilter)
        .map(r => {
          const a: Record<string, unknown> = {
            workflow_run_backend_id: r.workflowRunBackendId,
            workflow_job_run_backend_id: r.workflowJobRunBackendId,
            database_id: String(r.id),
            name: r.name,
            size: String(r.size),
            created_at: r.createdAt.toISOString()
          }
          if (r.digest) a['digest'] = r.digest
          return a
        })
      return { artifacts }
    },
    GetSignedArtifactURL(body) {
      checkRun(body)
      const name = str(body['name']) ?? ''
      const r = live(name)
      if (!r || !r.finalized) throw new TwirpError(404, 'not_found', `artifact ${name} not found`)
      return { signed_url: signedUrl(r) }
    },
    DeleteArtifact(body) {
      checkRun(body)
      const name = str(body['name']) ?? ''
      const r = live(name)
      if (!r || !r.finalized) throw new TwirpError(404, 'not_found', `artifact ${name} not found`)
      r.deleted = true
      return { ok: true, artifact_id: String(r.id) }
    }
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  function twirpError(res: ServerResponse, status: number, code: string, msg: string): void {
    sendJson(res, status, { code, msg })
  }

  async function handleTwirp(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const raw = await readBody(req)
    let body: unknown
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {}
    } catch {
      body = raw.toString('utf8')
    }
    calls.push({ method, body })
    if (req.method !== 'POST') {
      return twirpError(res, 404, 'bad_route', `unsupported method ${req.method} (only POST is allowed)`)
    }
    const handler = handlers[method]
    if (!handler) return twirpError(res, 404, 'bad_route', `no handler for path ${req.url}`)
    if (req.headers.authorization !== `Bearer ${token}`) {
      return twirpError(res, 401, 'unauthenticated', 'invalid or missing runtime token')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return twirpError(res, 400, 'malformed', 'the json request could not be decoded')
    }
    const failure = takeFailure(method)
    if (failure) {
      return twirpError(res, failure.status, TWIRP_CODES[failure.status] ?? 'unknown', failure.msg)
    }
    try {
      sendJson(res, 200, handler(body as Record<string, unknown>))
    } catch (error) {
      if (error instanceof TwirpError) return twirpError(res, error.status, error.code, error.message)
      throw error
    }
  }

  function storageError(res: ServerResponse, status: number, code: string, message: string): void {
    const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`
    res.writeHead(status, {
      'Content-Type': 'application/xml',
      'x-ms-error-code': code,
      'x-ms-request-id': uuid(),
      'Content-Length': Buffer.byteLength(xml)
    })
    res.end(xml)
  }

  function storageOk(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
    res.writeHead(status, {
      'x-ms-request-id': uuid(),
      'x-ms-version': '2025-01-05',
      'x-ms-request-server-encrypted': 'true',
      ETag: `"0x${randomBytes(8).toString('hex').toUpperCase()}"`,
      'Last-Modified': new Date().toUTCString(),
      Date: new Date().toUTCString(),
      'Content-Length': '0',
      ...extra
    })
    res.end()
  }

  async function handleBlob(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req)
    const prefix = `/${ACCOUNT}/${CONTAINER}/`
    const blobName = decodeURIComponent(url.pathname.slice(prefix.length))
    const r = records.find(x => x.blobName === blobName)
    const comp = url.searchParams.get('comp')
    const op = req.method === 'GET' || req.method === 'HEAD' ? 'get' : comp === 'block' ? 'block' : comp === 'blocklist' ? 'blocklist' : 'blob'
    const call: BlobCall = { method: req.method ?? '', op, artifactId: r?.id, bytes: body.length, status: 0 }
    blobCalls.push(call)
    const reply = (status: number, fn: () => void): void => {
      call.status = status
      fn()
    }
    if (!r || r.deleted) return reply(404, () => storageError(res, 404, 'BlobNotFound', 'The specified blob does not exist.'))
    if (url.searchParams.get('sig') !== r.sig) {
      return reply(403, () => storageError(res, 403, 'AuthenticationFailed', 'Signature did not match.'))
    }
    if (op === 'get') {
      if (!r.committed) return reply(404, () => storageError(res, 404, 'BlobNotFound', 'The specified blob does not exist.'))
      call.status = 200
      res.writeHead(200, {
        'Content-Type': r.blobContentType ?? 'application/zip',
        'Content-Length': r.zip.length,
        'x-ms-blob-type': 'BlockBlob',
        'x-ms-request-id': uuid()
      })
      res.end(req.method === 'HEAD' ? undefined : r.zip)
      return
    }
    if (req.method !== 'PUT') {
      return reply(405, () => storageError(res, 405, 'UnsupportedHttpVerb', "The resource doesn't support the specified HTTP verb."))
    }
    const failure = takeFailure('BlobUpload')
    if (failure) return reply(failure.status, () => storageError(res, failure.status, 'InjectedFailure', failure.msg))
    if (r.finalized) {
      return reply(409, () => storageError(res, 409, 'BlobImmutableDueToPolicy', 'The artifact is already finalized.'))
    }
    if (op === 'block') {
      const blockId = url.searchParams.get('blockid')
      if (!blockId) return reply(400, () => storageError(res, 400, 'InvalidQueryParameterValue', 'blockid is required'))
      r.blocks.set(blockId, body)
      return reply(201, () => storageOk(res, 201))
    }
    if (op === 'blocklist') {
      const xml = body.toString('utf8')
      const ids = [...xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map(m => m[2] ?? '')
      const parts: Buffer[] = []
      for (const id of ids) {
        const block = r.blocks.get(id)
        if (!block) return reply(400, () => storageError(res, 400, 'InvalidBlockList', 'The specified block list is invalid.'))
        parts.push(block)
      }
      r.zip = Buffer.concat(parts)
      r.committed = true
      r.blocks.clear()
      r.size = r.zip.length
      r.blobContentType = str(req.headers['x-ms-blob-content-type']) ?? 'application/octet-stream'
      return reply(201, () => storageOk(res, 201, { 'Content-MD5': createHash('md5').update(r.zip).digest('base64') }))
    }
    // single-shot Put Blob
    r.zip = body
    r.committed = true
    r.size = body.length
    r.blobContentType = str(req.headers['x-ms-blob-content-type']) ?? str(req.headers['content-type']) ?? 'application/octet-stream'
    return reply(201, () => storageOk(res, 201, { 'Content-MD5': createHash('md5').update(body).digest('base64') }))
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const twirpPrefix = `/twirp/${SERVICE}/`
    let work: Promise<void>
    if (url.pathname.startsWith(twirpPrefix)) {
      work = handleTwirp(req, res, url.pathname.slice(twirpPrefix.length))
    } else if (url.pathname.startsWith(`/${ACCOUNT}/${CONTAINER}/`)) {
      work = handleBlob(req, res, url)
    } else if (url.pathname.startsWith('/twirp/')) {
      work = readBody(req).then(() => twirpError(res, 404, 'bad_route', `no handler for path ${url.pathname}`))
    } else {
      work = readBody(req).then(() => {
        res.writeHead(404, { 'Content-Type': 'text/plain' })
        res.end('not found')
      })
    }
    work.catch((error: unknown) => {
      if (!res.headersSent) twirpError(res, 500, 'internal', String(error))
      else res.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  origin = `http://127.0.0.1:${port}`
  const url = `${origin}/`

  const noProxy = [process.env['NO_PROXY'], process.env['no_proxy'], '127.0.0.1', 'localhost'].filter((x): x is string => Boolean(x)).join(',')

  const env: Record<string, string> = {
    ACTIONS_RUNTIME_TOKEN: token,
    ACTIONS_RESULTS_URL: url,
    // isGhes() treats any host other than github.com / *.ghe.com / *.localhost as GHES and
    // then refuses every call with GHESNotSupportedError.
    GITHUB_SERVER_URL: 'https://github.com',
    // the runner sets this (repo max retention); getExpiration() clamps retentionDays to it
    GITHUB_RETENTION_DAYS: '90',
    // @azure/core-rest-pipeline does not exempt loopback from HTTP(S)_PROXY by itself
    NO_PROXY: noProxy,
    no_proxy: noProxy
  }

  return {
    url,
    token,
    env,
    artifacts: records,
    calls,
    blobCalls,
    workflowRunBackendId,
    workflowJobRunBackendId,
    seed(name, files) {
      if (live(name)) throw new Error(`seed: artifact ${name} already exists on this run`)
      const entries: Record<string, Uint8Array> = {}
      for (const [path, content] of Object.entries(files)) {
        entries[path] = typeof content === 'string' ? new Uint8Array(Buffer.from(content, 'utf8')) : new Uint8Array(content)
      }
      const r = makeRecord(name, uuid(), new Date(Date.now() - 60_000), true)
      r.zip = Buffer.from(zipSync(entries, { level: 6 }))
      r.committed = true
      r.size = r.zip.length
      r.blobContentType = 'application/zip'
      r.mimeType = 'application/zip'
      r.version = 7
      r.digest = `sha256:${createHash('sha256').update(r.zip).digest('hex')}`
      r.finalized = true
      return r
    },
    failNext(method, status, msg = 'injected failure') {
      const queue = failures.get(method) ?? []
      queue.push({ status, msg })
      failures.set(method, queue)
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close(err => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
    }
  }
}
