// The schedule clari-export replaces, rebuilt for comparison: one period at a time; the
// first status check 5 s after creating, then gaps ×1.5 up to 60 s; download; a fixed
// 10 s pause before the next period. Every duration is multiplied by `scale`.
import { setTimeout as sleep } from 'node:timers/promises'

const TERMINAL = ['DONE', 'FAILED', 'CANCELLED', 'ABORTED']

export interface ReferenceOptions {
  baseUrl: string
  apiKey: string
  forecastId: string
  periods: string[]
  scale: number
}

/** Runs the whole schedule; returns Date.now() at the moment the last download finished. */
export async function runReference(o: ReferenceOptions): Promise<number> {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(`${o.baseUrl}/${path}`, {
      method,
      headers: { apikey: o.apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    if (!res.ok) throw new Error(`reference: ${method} ${path} answered ${res.status}: ${await res.text()}`)
    return res
  }
  let end = Date.now()
  for (const [i, period] of o.periods.entries()) {
    if (i > 0) await sleep(10_000 * o.scale)
    // The same body the action sends by default, so both download the same content.
    const created = await call('POST', `export/forecast/${o.forecastId}`, { timePeriod: period, typesToExport: ['forecast', 'forecast_updated'], exportFormat: 'JSON' })
    const { jobId } = (await created.json()) as { jobId: string }
    let gap = 5_000
    let status = ''
    while (!TERMINAL.includes(status)) {
      await sleep(gap * o.scale)
      status = ((await (await call('GET', `export/jobs/${jobId}`)).json()) as { status: string }).status
      gap = Math.min(gap * 1.5, 60_000)
    }
    if (status === 'DONE') await (await call('GET', `export/jobs/${jobId}/results`)).arrayBuffer()
    end = Date.now()
  }
  return end
}
