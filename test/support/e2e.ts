// Shared pieces of the end-to-end tests: a simulator per test, the inputs that point the
// action at it, and readers for what the action left behind.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import { expect } from 'vitest'
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/server.ts'
import type { Manifest } from '../../src/manifest.ts'
import type { ActionRun } from './run-action.ts'

export type { Manifest } from '../../src/manifest.ts'

const open: Simulator[] = []

/** A simulator with fast jobs (unless told otherwise), closed by closeSimulators(). */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ defaults: { queuedSeconds: 0.02, runSeconds: 0.15, rows: 30 }, ...options })
  open.push(sim)
  return sim
}

export async function closeSimulators(): Promise<void> {
  await Promise.all(open.splice(0).map(s => s.close()))
}

/** Inputs that point the action at `sim`, with a schedule scaled to match its fast jobs. */
export function simInputs(sim: Simulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'api-key': sim.apiKey,
    'forecast-id': 'forecast_total',
    'base-url': sim.url,
    'poll-interval': '0.03',
    'max-poll-interval': '0.3',
    'request-timeout': '2',
    ...extra
  }
}

export async function manifestOf(run: ActionRun): Promise<Manifest> {
  const file = run.outputs.manifest
  expect(file, `no manifest output; stdout:\n${run.stdout}`).toBeTruthy()
  return JSON.parse(await readFile(file, 'utf8')) as Manifest
}

export async function fileOf(run: ActionRun, name: string): Promise<Buffer | undefined> {
  const file = path.join(run.outputs['output-dir'], name)
  return existsSync(file) ? readFile(file) : undefined
}

/** The key appears nowhere the action printed or wrote. */
export async function expectNoKey(run: ActionRun, key: string): Promise<void> {
  // `::add-mask::<key>` is the one place the key must appear: it is how the runner learns
  // to mask it, and the runner swallows that line.
  const maskCommand = `::add-mask::${key}\n`
  const all = (await run.everything()).split(maskCommand).join('')
  expect(all.includes(key), 'the API key leaked into the output or files').toBe(false)
}

/** Jobs the simulator recorded, by period label. */
export function jobsByPeriod(sim: Simulator): Record<string, number> {
  const count: Record<string, number> = {}
  for (const j of sim.jobs) count[j.period] = (count[j.period] ?? 0) + 1
  return count
}
