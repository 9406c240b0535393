// The job summary: what a data engineer reads on Monday morning. One row per period,
// the totals, a timeline of where the time went, and each failure with its fix.
import type { Manifest } from './manifest.ts'
import type { PeriodResult } from './period-result.ts'

const ICON: Record<string, string> = { DONE: '✅', FAILED: '❌', CANCELLED: '⏹️', ABORTED: '⏹️', ERROR: '⚠️' }

export interface SummaryExtras {
  concurrency: number
  artifactUrl: string
  artifactNote: string
  fatal?: string
}

export function renderSummary(m: Manifest, x: SummaryExtras): string {
  const done = m.periods.filter(p => p.status === 'DONE').length
  const out: string[] = []
  out.push(`## Clari export: forecast \`${m.forecastId}\`: ${done} of ${m.periods.length} period(s) exported`)
  out.push('')
  if (x.fatal) out.push(`> [!CAUTION]\n> ${x.fatal}\n`)
  out.push('| | Period | Status | Job id | Queued | Run | Total | Polls | Rows | Size |')
  out.push('|---|---|---|---|--:|--:|--:|--:|--:|--:|')
  for (const p of m.periods) {
    out.push(
      `| ${ICON[p.status] ?? ''} | ${p.period} | ${p.status} | ${p.jobId ? `\`${p.jobId}\`` : '–'} | ${secs(p.queuedSeconds)} | ${secs(p.runSeconds)} | ${secs(totalSeconds(p))} | ${p.polls} | ${p.rows ?? '–'} | ${size(p.bytes)} |`
    )
  }
  out.push('')
  const s = m.stats
  out.push(
    `**Totals:** ${done} exported, ${m.periods.length - done} not · ${size(m.periods.reduce((a, p) => a + (p.bytes ?? 0), 0))} · ${s.requests} requests to Clari · ${s.rateLimited} rate-limited (429) · ${s.retries} retries · ${s.waitedSeconds} s waited on rate limits · ${x.concurrency || 0} job slot(s) used`
  )
  out.push('')
  out.push(x.artifactUrl ? `**Artifact:** [${x.artifactNote}](${x.artifactUrl})` : `**Artifact:** ${x.artifactNote}`)
  const gantt = timeline(m.periods)
  if (gantt) out.push('', '<details><summary>Timeline</summary>', '', gantt, '', '</details>')
  const failures = m.periods.filter(p => p.status !== 'DONE')
  if (failures.length > 0) {
    out.push('', '### What went wrong', '')
    for (const p of failures) out.push(`- **${p.period}** (${p.status}): ${p.error ?? 'no detail'}`)
  }
  return `${out.join('\n')}\n`
}

function totalSeconds(p: PeriodResult): number | null {
  if (!p.startedAt || !p.finishedAt) return null
  return (Date.parse(p.finishedAt) - Date.parse(p.startedAt)) / 1000
}

function secs(v: number | null): string {
  return v === null ? '–' : `${v.toFixed(1)} s`
}

export function size(bytes: number | null): string {
  if (bytes === null) return '–'
  if (bytes < 1024) return `${bytes} B`
  const units = ['kB', 'MB', 'GB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

/** A Mermaid Gantt chart (GitHub renders it): queued, running and download per period. */
function timeline(periods: PeriodResult[]): string | undefined {
  const rows = periods.filter(p => p.startedAt && p.finishedAt)
  if (rows.length === 0) return undefined
  const lines = ['```mermaid', 'gantt', '  dateFormat x', '  axisFormat %H:%M:%S']
  rows.forEach((p, i) => {
    const start = Date.parse(p.startedAt as string)
    const end = Math.max(start + 1, Date.parse(p.finishedAt as string))
    const queuedEnd = Math.min(end, start + (p.queuedSeconds ?? 0) * 1000)
    const runEnd = Math.min(end, queuedEnd + (p.runSeconds ?? 0) * 1000)
    lines.push(`  section ${p.period}`)
    if (p.queuedSeconds !== null && queuedEnd > start) lines.push(`  queued :q${i}, ${start}, ${Math.round(queuedEnd)}`)
    if (p.runSeconds !== null && runEnd > queuedEnd)
      lines.push(`  ${p.status === 'DONE' ? 'running' : `running (${p.status})`} :${p.status === 'DONE' ? '' : 'crit, '}r${i}, ${Math.round(queuedEnd)}, ${Math.round(runEnd)}`)
    if (end > runEnd)
      lines.push(
        `  ${p.status === 'DONE' ? 'detect + download' : p.status.toLowerCase()} :${p.status === 'DONE' ? 'done, ' : 'crit, '}d${i}, ${Math.round(runEnd)}, ${Math.round(end)}`
      )
  })
  lines.push('```')
  return lines.join('\n')
}
