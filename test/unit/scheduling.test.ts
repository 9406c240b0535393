// The scheduling logic on virtual time: when jobs are created, how often they are polled,
// how soon completion is noticed, and how many run at once. No real sleeps.
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/inputs.ts'
import { PollPlanner } from '../../src/poll-planner.ts'
import { runExports, type RunOutcome } from '../../src/run-exports.ts'
import { FakeClari } from '../support/fake-clari.ts'
import { VirtualClock } from '../support/virtual-clock.ts'

const S = 1000
// The benchmark workload: six periods, 3 s queued, 25–65 s running.
const PERIODS = ['2025_Q1', '2025_Q2', '2025_Q3', '2025_Q4', '2026_Q1', '2026_Q2']
const RUN_SECONDS = [25, 35, 45, 55, 60, 65]
const workload = (): Record<string, { queuedMs: number; runMs: number }> => Object.fromEntries(PERIODS.map((p, i) => [p, { queuedMs: 3 * S, runMs: RUN_SECONDS[i] * S }]))

async function scenario(inputs: Record<string, string>, fake: (clock: VirtualClock) => FakeClari, signal = new AbortController().signal) {
  const clock = new VirtualClock()
  const clari = fake(clock)
  const dir = await mkdtemp(path.join(tmpdir(), 'clari-sched-'))
  const config = readConfig(n => ({ 'api-key': 'k', 'forecast-id': 'f', periods: PERIODS.join(','), ...inputs })[n] ?? '', dir)
  await mkdir(config.outputDir)
  const start = clock.now()
  const events: string[] = []
  const outcome: RunOutcome = await clock.run(
    runExports({
      config,
      client: clari.asClient(),
      cleanupClient: clari.asClient(),
      clock,
      signal,
      random: () => 0.5,
      log: () => {},
      event: (p, m) => events.push(`${p} ${m}`),
      info: () => {},
      warn: () => {}
    })
  )
  return { clock, clari, outcome, wallMs: clock.now() - start, start, events }
}

/** When each job's completion was first seen, and how late. */
function detection(clari: FakeClari) {
  return clari.jobs.map(j => {
    const end = clari.endOf(j)
    const seen = clari.calls.find(c => c.method === 'status' && c.jobId === j.jobId && c.at >= end)
    const polls = clari.calls.filter(c => c.method === 'status' && c.jobId === j.jobId).length
    return { period: j.period, durationMs: end - j.createdAt, lagMs: (seen?.at ?? Infinity) - end, polls }
  })
}

/** Polls the reference schedule (5 s × 1.5ⁿ, capped at 60 s) needs to see a job of `ms` finish. */
function referencePolls(ms: number): number {
  let t = 0
  let gap = 5 * S
  let polls = 0
  while (t < ms) {
    t += gap
    polls++
    gap = Math.min(60 * S, gap * 1.5)
  }
  return polls
}

describe('default inputs: one job at a time', () => {
  it('never overlaps jobs, and creates them in order', async () => {
    const { clari, outcome } = await scenario({}, c => new FakeClari(c, workload()))
    expect(outcome.results.map(r => r.status)).toEqual(PERIODS.map(() => 'DONE'))
    expect(clari.jobs.map(j => j.period)).toEqual(PERIODS)
    expect(clari.maxOverlap()).toBe(1)
  })

  it('notices completion within a small fraction of the job, with fewer polls than the reference schedule', async () => {
    const { clari } = await scenario({}, c => new FakeClari(c, workload()))
    const seen = detection(clari)
    for (const d of seen) expect(d.lagMs).toBeLessThanOrEqual(Math.max(5 * S, 0.1 * d.durationMs))
    const polls = seen.reduce((a, d) => a + d.polls, 0)
    const reference = seen.reduce((a, d) => a + referencePolls(d.durationMs), 0)
    expect(polls).toBeLessThan(reference)
  })

  it('aims the first poll of later jobs at the latest finish seen', async () => {
    const { clari } = await scenario(
      { periods: '2025_Q1,2025_Q2' },
      c => new FakeClari(c, { '2025_Q1': { queuedMs: 3 * S, runMs: 40 * S }, '2025_Q2': { queuedMs: 3 * S, runMs: 40 * S } })
    )
    const second = clari.jobs[1]
    const polls = clari.calls.filter(c => c.method === 'status' && c.jobId === second.jobId)
    expect(polls[0].at - second.createdAt).toBe(43 * S)
    expect(polls).toHaveLength(1)
  })

  it('waits `delay` after an export before creating the next job', async () => {
    const { clari } = await scenario({ delay: '10' }, c => new FakeClari(c, workload()))
    const creates = clari.calls.filter(c => c.method === 'create')
    for (let i = 1; i < creates.length; i++) {
      const prevSeen = clari.calls.find(c => c.method === 'status' && c.jobId === clari.jobs[i - 1].jobId && c.at >= clari.endOf(clari.jobs[i - 1]))!
      expect(creates[i].at - prevSeen.at).toBeGreaterThanOrEqual(10 * S)
    }
  })
})

describe('concurrency', () => {
  it('runs up to N jobs at once, created in order, and finishes near the makespan', async () => {
    const { clari, wallMs } = await scenario({ 'max-concurrent-jobs': '3' }, c => new FakeClari(c, workload(), 3))
    expect(clari.maxOverlap()).toBe(3)
    expect(clari.jobs.map(j => j.period)).toEqual(PERIODS)
    expect(clari.calls.filter(c => c.method === 'create')).toHaveLength(6)
    // Greedy in-order makespan on 3 slots: 28+58, 38+63, 48+68 → 116 s.
    expect(wallMs).toBeLessThanOrEqual(116 * S * 1.25)
  })

  it('auto uses the free slots /admin/limits reports, never more', async () => {
    const { clari } = await scenario({ 'max-concurrent-jobs': 'auto' }, c => new FakeClari(c, workload(), 5, { count: 3, until: 0 + Date.UTC(2026, 11, 7, 6, 0, 1) }))
    expect(clari.maxOverlap()).toBe(2)
  })

  it('auto runs one at a time when no slot is free yet, and waits for one', async () => {
    const start = Date.UTC(2026, 11, 7, 6, 0, 0)
    const { clari } = await scenario({ 'max-concurrent-jobs': 'auto', periods: '2025_Q1,2025_Q2' }, c => new FakeClari(c, workload(), 2, { count: 2, until: start + 30 * S }))
    expect(clari.maxOverlap()).toBe(1)
    expect(clari.jobs[0].createdAt).toBeGreaterThanOrEqual(start + 30 * S)
    expect(clari.jobs).toHaveLength(2)
    // Creates refused while the slots were full made no job: exactly one per period.
    expect(clari.calls.filter(c => c.method === 'create').length).toBeGreaterThan(2)
  })
})

describe('cut short', () => {
  it('cancels every job still running when the run is aborted', async () => {
    const ac = new AbortController()
    const { clari, outcome } = await scenario(
      { 'max-concurrent-jobs': '3' },
      c => {
        const fake = new FakeClari(c, workload(), 3)
        // Stop 20 s after the third job was made: all three are queued or running then.
        fake.onCreate = n => void (n === 3 && c.sleep(20 * S).then(() => ac.abort()))
        return fake
      },
      ac.signal
    )
    expect(clari.calls.filter(c => c.method === 'cancel').map(c => c.jobId)).toEqual(['job-1', 'job-2', 'job-3'])
    expect(outcome.results.map(r => r.status)).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ERROR', 'ERROR', 'ERROR'])
    expect(clari.jobs).toHaveLength(3)
  })
})

describe('PollPlanner', () => {
  const planner = () => new PollPlanner({ pollIntervalMs: 5 * S, maxPollIntervalMs: 60 * S, random: () => 0 })
  it('polls first after poll-interval, then at gaps growing with the job age, within the bounds', () => {
    const p = planner()
    expect(p.nextDelayMs(0, 0)).toBe(5 * S)
    expect(p.nextDelayMs(10 * S, 1)).toBe(5 * S)
    expect(p.nextDelayMs(100 * S, 5)).toBe(10 * S)
    expect(p.nextDelayMs(1000 * S, 9)).toBe(60 * S)
  })
  it('aims at the latest finish seen, bounded by max-poll-interval', () => {
    const p = planner()
    p.recordDuration(40 * S)
    p.recordDuration(50 * S)
    expect(p.expectedMs()).toBe(50 * S)
    expect(p.nextDelayMs(0, 0)).toBe(50 * S)
    expect(p.nextDelayMs(48 * S, 1)).toBe(5 * S)
    p.recordDuration(500 * S)
    expect(p.nextDelayMs(0, 0)).toBe(60 * S)
  })
})
