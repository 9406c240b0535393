import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DefaultArtifactClient } from '@actions/artifact'
import { startArtifactBackend } from './support/artifact-backend.ts'
import type { ArtifactBackend } from './support/artifact-backend.ts'

const JSON_BYTES = Buffer.from(JSON.stringify({ forecast: 'Q3', rows: [{ id: 1, amount: 12.5 }] }, null, 2) + '\n')
const CSV_BYTES = Buffer.from('owner,region,amount\nJosé Núñez,Zürich,1200\n山田太郎,東京,3400\nŁukasz,Kraków,€99\n', 'utf8')

describe('loopback artifact backend with the real @actions/artifact client', () => {
  let backend: ArtifactBackend
  let dir: string
  let files: string[]
  const saved = new Map<string, string | undefined>()

  beforeAll(async () => {
    backend = await startArtifactBackend()
    for (const [k, v] of Object.entries(backend.env)) {
      saved.set(k, process.env[k])
      process.env[k] = v
    }
    dir = await mkdtemp(join(tmpdir(), 'artifact-backend-'))
    await mkdir(join(dir, 'out'))
    await writeFile(join(dir, 'out', 'forecast.json'), JSON_BYTES)
    await writeFile(join(dir, 'out', 'forecast.csv'), CSV_BYTES)
    files = [join(dir, 'out', 'forecast.json'), join(dir, 'out', 'forecast.csv')]
  })

  afterAll(async () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    await backend?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('exposes the env a child process needs', () => {
    expect(backend.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(backend.env['ACTIONS_RESULTS_URL']).toBe(backend.url)
    expect(backend.env['ACTIONS_RUNTIME_TOKEN']).toBe(backend.token)
    const payload = JSON.parse(Buffer.from(backend.token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    expect(payload.scp).toContain(`Actions.Results:${backend.workflowRunBackendId}:${backend.workflowJobRunBackendId}`)
  })

  it('uploads a zip whose entries are byte-identical, and records retention', async () => {
    const client = new DefaultArtifactClient()
    const result = await client.uploadArtifact('clari-export', files, join(dir, 'out'), {
      retentionDays: 5,
      compressionLevel: 6
    })
    expect(backend.artifacts).toHaveLength(1)
    const stored = backend.artifacts[0]!
    expect(result.id).toBe(stored.id)
    expect(stored.name).toBe('clari-export')
    expect(stored.finalized).toBe(true)
    expect(stored.deleted).toBe(false)
    expect(stored.retentionDays).toBe(5)
    expect(stored.expiresAt).toBeInstanceOf(Date)
    expect(stored.mimeType).toBe('application/zip')
    expect(stored.size).toBe(stored.zip.length)
    expect(result.size).toBe(stored.zip.length)
    expect(stored.digest).toBe(`sha256:${createHash('sha256').update(stored.zip).digest('hex')}`)
    expect(result.digest).toBe(createHash('sha256').update(stored.zip).digest('hex'))

    const entries = stored.files()
    expect(Object.keys(entries).sort()).toEqual(['forecast.csv', 'forecast.json'])
    expect(entries['forecast.json']!.equals(JSON_BYTES)).toBe(true)
    expect(entries['forecast.csv']!.equals(CSV_BYTES)).toBe(true)

    expect(backend.calls.map(c => c.method)).toEqual(['CreateArtifact', 'FinalizeArtifact'])
    const create = backend.calls[0]!.body as Record<string, unknown>
    expect(create).toMatchObject({
      workflow_run_backend_id: backend.workflowRunBackendId,
      workflow_job_run_backend_id: backend.workflowJobRunBackendId,
      name: 'clari-export',
      version: 7,
      mime_type: 'application/zip'
    })
    expect(typeof create['expires_at']).toBe('string')
    // @azure/storage-blob's uploadStream always stages blocks and commits a block list
    expect(backend.blobCalls.map(c => c.op)).toEqual(['block', 'blocklist'])
  })

  it('rejects a second upload with the same name like the real service (409)', async () => {
    const client = new DefaultArtifactClient()
    await expect(client.uploadArtifact('clari-export', files, join(dir, 'out'))).rejects.toThrow(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run'
    )
    expect(backend.artifacts).toHaveLength(1)
  })

  it('deleteArtifact then upload again succeeds', async () => {
    const client = new DefaultArtifactClient()
    const first = backend.artifacts[0]!
    const del = await client.deleteArtifact('clari-export')
    expect(del.id).toBe(first.id)
    expect(first.deleted).toBe(true)
    expect(backend.calls.slice(-2).map(c => c.method)).toEqual(['ListArtifacts', 'DeleteArtifact'])
    expect(backend.calls.at(-2)!.body).toMatchObject({ name_filter: 'clari-export' })

    const again = await client.uploadArtifact('clari-export', files, join(dir, 'out'), { retentionDays: 5 })
    expect(again.id).not.toBe(first.id)
    expect(backend.artifacts).toHaveLength(2)
    const second = backend.artifacts[1]!
    expect(second.id).toBe(again.id)
    expect(second.finalized && !second.deleted).toBe(true)
    expect(second.files()['forecast.csv']!.equals(CSV_BYTES)).toBe(true)

    const got = await client.getArtifact('clari-export')
    expect(got.artifact.id).toBe(second.id)
    // deleting an artifact that does not exist fails with ArtifactNotFoundError from the client
    await expect(client.deleteArtifact('never-uploaded')).rejects.toThrow('Artifact not found for name: never-uploaded')
  })

  it('seed() shows up in listArtifacts/getArtifact and blocks CreateArtifact', async () => {
    const client = new DefaultArtifactClient()
    const seeded = backend.seed('previous-attempt', { 'a/b.txt': 'hello', 'c.bin': Buffer.from([0, 1, 2, 255]) })
    expect(seeded.files()).toEqual({ 'a/b.txt': Buffer.from('hello'), 'c.bin': Buffer.from([0, 1, 2, 255]) })

    const list = await client.listArtifacts()
    expect(list.artifacts.map(a => a.name).sort()).toEqual(['clari-export', 'previous-attempt'])
    const got = await client.getArtifact('previous-attempt')
    expect(got.artifact).toMatchObject({ name: 'previous-attempt', id: seeded.id, size: seeded.zip.length })
    expect(got.artifact.createdAt).toBeInstanceOf(Date)
    await expect(client.getArtifact('nope')).rejects.toThrow('Artifact not found for name: nope')

    await expect(client.uploadArtifact('previous-attempt', files, join(dir, 'out'))).rejects.toThrow('(409) Conflict')
    await client.deleteArtifact('previous-attempt')
    const res = await client.uploadArtifact('previous-attempt', files, join(dir, 'out'))
    expect(res.id).toBeGreaterThan(seeded.id)
  })

  it('ListArtifacts honours id_filter (raw Twirp)', async () => {
    const target = backend.artifacts.find(a => a.name === 'clari-export' && !a.deleted)!
    const res = await fetch(new URL('twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts', backend.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${backend.token}` },
      body: JSON.stringify({
        workflow_run_backend_id: backend.workflowRunBackendId,
        workflow_job_run_backend_id: backend.workflowJobRunBackendId,
        id_filter: String(target.id)
      })
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { artifacts: { database_id: string; name: string }[] }
    expect(body.artifacts).toEqual([expect.objectContaining({ database_id: String(target.id), name: 'clari-export' })])

    const unauth = await fetch(new URL('twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts', backend.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}'
    })
    expect(unauth.status).toBe(401)
    expect(await unauth.json()).toMatchObject({ code: 'unauthenticated' })
  })

  it('failNext injects Twirp errors; a failed finalize still reserves the name', async () => {
    const client = new DefaultArtifactClient()
    backend.failNext('CreateArtifact', 403)
    await expect(client.uploadArtifact('flaky', files, join(dir, 'out'))).rejects.toThrow(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (403) Forbidden: injected failure'
    )

    backend.failNext('FinalizeArtifact', 403)
    await expect(client.uploadArtifact('flaky', files, join(dir, 'out'))).rejects.toThrow('Failed to FinalizeArtifact')
    const reserved = backend.artifacts.find(a => a.name === 'flaky')!
    expect(reserved.finalized).toBe(false)
    expect(reserved.files()['forecast.json']!.equals(JSON_BYTES)).toBe(true)
    // invisible to list/get/delete, yet the name is taken (as on GitHub)
    await expect(client.getArtifact('flaky')).rejects.toThrow('Artifact not found')
    await expect(client.deleteArtifact('flaky')).rejects.toThrow('Artifact not found')
    await expect(client.uploadArtifact('flaky', files, join(dir, 'out'))).rejects.toThrow('(409) Conflict')

    backend.failNext('CreateArtifact', 403, 'insufficient usage to create artifact')
    await expect(client.uploadArtifact('quota', files, join(dir, 'out'))).rejects.toThrow('Artifact storage quota has been hit')

    backend.failNext('BlobUpload', 403)
    await expect(client.uploadArtifact('blob-fail', files, join(dir, 'out'))).rejects.toThrow('injected failure')
    expect(backend.artifacts.find(a => a.name === 'blob-fail')!.finalized).toBe(false)
  })

  it('downloadArtifact round-trips through GetSignedArtifactURL and the blob GET', async () => {
    const client = new DefaultArtifactClient()
    const target = backend.artifacts.find(a => a.name === 'clari-export' && !a.deleted)!
    const dest = join(dir, 'download')
    const res = await client.downloadArtifact(target.id, { path: dest })
    expect(res.downloadPath).toBe(dest)
    expect(backend.calls.slice(-2).map(c => c.method)).toEqual(['ListArtifacts', 'GetSignedArtifactURL'])
    expect((await readFile(join(dest, 'forecast.csv'))).equals(CSV_BYTES)).toBe(true)
  })
})
