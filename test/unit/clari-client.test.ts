import { describe, expect, it } from 'vitest'
import { ClariClient } from '../../src/clari-client.ts'
import type { RawResponse, Transport } from '../../src/http.ts'
import { Redactor } from '../../src/redact.ts'

/** A transport that answers from a script and records what was sent where. */
function scripted(answers: { status: number; location?: string; body?: string }[]) {
  const sent: { url: string; headers: Record<string, unknown> }[] = []
  const transport = {
    describe: (u: URL) => u.pathname,
    async send(_method: string, url: URL, headers: Record<string, unknown>): Promise<RawResponse> {
      sent.push({ url: url.href, headers })
      const a = answers.shift()!
      const message = { statusCode: a.status, headers: a.location ? { location: a.location } : {} }
      return { status: a.status, headers: message.headers, response: { message, readBody: async () => a.body ?? '' } } as unknown as RawResponse
    }
  } as unknown as Transport
  return { transport, sent }
}

describe('results redirects', () => {
  it('sends the key only to the API origin when following a redirect', async () => {
    const { transport, sent } = scripted([{ status: 302, location: 'https://storage.example.net/blob?sig=x' }, { status: 200 }])
    const client = new ClariClient(transport, new URL('https://api.clari.com/v4/'), 'KEY', new Redactor())
    await client.openResults('job1')
    expect(sent.map(s => s.url)).toEqual(['https://api.clari.com/v4/export/jobs/job1/results', 'https://storage.example.net/blob?sig=x'])
    expect(sent[0].headers).toEqual({ apikey: 'KEY' })
    expect(sent[1].headers).toEqual({})
  })

  it('refuses a redirect from https to http', async () => {
    const { transport, sent } = scripted([{ status: 302, location: 'http://storage.example.net/blob' }])
    const client = new ClariClient(transport, new URL('https://api.clari.com/v4/'), 'KEY', new Redactor())
    await expect(client.openResults('job1')).rejects.toThrow(/redirected from https to http \(storage\.example\.net\); refused/)
    expect(sent).toHaveLength(1)
  })

  it('stops after 5 redirects', async () => {
    const { transport } = scripted(Array.from({ length: 7 }, () => ({ status: 307, location: '/v4/again' })))
    const client = new ClariClient(transport, new URL('https://api.clari.com/v4/'), 'KEY', new Redactor())
    await expect(client.openResults('job1')).rejects.toThrow(/redirected more than 5 times/)
  })
})

describe('error messages', () => {
  it('never carry part of the key, even when Clari echoes it at the end of a long body', async () => {
    const key = 'KEYSECRET0123456789'
    const body = `<html>${'x'.repeat(489)} apikey=${key}</html>`
    const { transport } = scripted([{ status: 400, body }])
    const redactor = new Redactor()
    redactor.add(key)
    const client = new ClariClient(transport, new URL('https://api.clari.com/v4/'), key, redactor)
    const created = client.createExport('f', { typesToExport: ['forecast'], exportFormat: 'JSON', schedule: 'NONE', includeHistorical: false })
    await expect(created).rejects.toThrow(/apikey=\*\*\*|x{100}/)
    await expect(created).rejects.not.toThrow(/KEYSEC/)
  })
})
