// `npm run demo`: the action's main job, end to end, on the built-in Clari simulator.
// Starts the simulator, runs dist/index.js on Node 24 exactly as the runner would, and
// leaves the exports, manifest.json and the job summary in ./demo-output.
//
// Against real Clari instead: CLARI_API_KEY=... CLARI_FORECAST_ID=... [CLARI_PERIODS=...] npm run demo
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { startSimulator } from './simulator/server.ts'
import { ACTION, actionEnv, NODE24, parseOutputs, ROOT } from './support/run-action.ts'

const out = path.join(ROOT, 'demo-output')
await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })
const files = { workspace: out, outputFile: path.join(out, 'outputs.txt'), summaryFile: path.join(out, 'summary.md') }
await writeFile(files.outputFile, '')
await writeFile(files.summaryFile, '')

const real = process.env.CLARI_API_KEY && process.env.CLARI_FORECAST_ID
// Job times are a real run's scaled down 100×: 25–65 s jobs finish in about half a second.
const sim = real
  ? undefined
  : await startSimulator({
      timeScale: 0.01,
      defaults: { queuedSeconds: 3, runSeconds: 30, rows: 40 },
      periods: { '2025_Q4': { runSeconds: 45 }, '2026_Q1': { runSeconds: 55 }, current: { runSeconds: 25 } },
      concurrentLimit: 3,
      // One 429 and one 5xx on a status call, on purpose: the log shows how they are handled.
      faults: [
        { kind: 'status', code: 429, route: 'status', style: 'retry-after-seconds', waitSeconds: 0.2 },
        { kind: 'status', code: 503, route: 'status' }
      ]
    })

const inputs: Record<string, string> = real
  ? {
      'api-key': process.env.CLARI_API_KEY as string,
      'forecast-id': process.env.CLARI_FORECAST_ID as string,
      periods: process.env.CLARI_PERIODS ?? 'current'
    }
  : {
      'api-key': sim!.apiKey,
      'forecast-id': 'forecast_total',
      periods: '2025_Q3..2026_Q1, current',
      'base-url': sim!.url,
      // Durations are seconds and accept fractions: the 100× scaled-down schedule.
      'poll-interval': '0.05',
      'max-poll-interval': '0.6'
    }

console.log(real ? `Running against Clari (${inputs['forecast-id']}, ${inputs.periods})` : `Clari simulator at ${sim!.url}`)
console.log(`Running ${path.relative(process.cwd(), ACTION)} on Node 24 with workspace ${path.relative(process.cwd(), out)}/\n`)
const child = spawn(NODE24, [ACTION], { cwd: out, env: actionEnv(inputs, files), stdio: ['ignore', 'pipe', 'inherit'] })
// The runner swallows ::add-mask:: lines; a terminal would show the key, so drop them here too.
createInterface({ input: child.stdout }).on('line', line => {
  if (!line.startsWith('::add-mask::')) console.log(line)
})
const code = await new Promise<number>(resolve => child.on('close', c => resolve(c ?? 1)))
await sim?.close()

const outputs = parseOutputs(await readFile(files.outputFile, 'utf8'))
console.log('\nOutputs:')
for (const [k, v] of Object.entries(outputs)) console.log(`  ${k} = ${v}`)
console.log(`\nExports and manifest: ${path.relative(process.cwd(), outputs['output-dir'] ?? out)}/`)
console.log(`Job summary (Markdown): ${path.relative(process.cwd(), files.summaryFile)}`)
console.log(`The action exited with ${code}.`)
process.exitCode = code
