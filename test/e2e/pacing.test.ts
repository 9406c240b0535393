// One rate budget for all calls: with RateLimit-* headers the action slows down before
// the limit instead of after a 429, even with several jobs polled at once.
import { afterEach, expect, it } from 'vitest'
import { closeSimulators, manifestOf, simInputs, simulator } from '../support/e2e.ts'
import { runAction } from '../support/run-action.ts'

afterEach(closeSimulators)

it.each(['ratelimit', 'x-ratelimit'] as const)('paces calls by %s headers so concurrent pollers hit few 429s', async style => {
  // 8 calls per 0.4 s window for 4 jobs polled every 30 ms at once: far more than allowed.
  const sim = await simulator({ rateLimit: { limit: 8, windowSeconds: 0.4, style }, defaults: { queuedSeconds: 0.05, runSeconds: 0.8, rows: 10 } })
  const run = await runAction(simInputs(sim, { periods: '2025_Q1..2025_Q4', 'max-concurrent-jobs': '4', 'poll-interval': '0.03', 'max-poll-interval': '0.05' }))
  expect(run.code, run.stdout).toBe(0)
  const limited = sim.requests.filter(r => r.status === 429).length
  const manifest = await manifestOf(run)
  expect(manifest.stats.rateLimited).toBe(limited)
  expect(limited).toBeLessThanOrEqual(2)
  expect(manifest.stats.waitedSeconds).toBeGreaterThan(0)
})
