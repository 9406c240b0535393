// Runs the simulator as a process, for the demo and CI workflows:
//   node test/simulator/cli.ts [--config options.json] [--port N] [--print-json]
// Prints CLARI_SIMULATOR_URL=..., CLARI_SIMULATOR_API_KEY=... and
// CLARI_SIMULATOR_STORAGE_URL=... (or, with --print-json, one JSON line with
// url/apiKey/storageUrl, and on shutdown one JSON line with the record), then
// serves until SIGINT/SIGTERM.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startSimulator } from './server.ts'
import type { SimulatorOptions } from './server.ts'

const USAGE = `Usage: npm run simulator -- [--port N] [--config options.json] [--print-json]

Starts the Clari API simulator on 127.0.0.1 and prints its URL and API key.
  --port N          listen on port N (default: a free port)
  --config FILE     SimulatorOptions as JSON: job times, limits, faults (see test/simulator/types.ts;
                    example: test/simulator/workflow-config.json)
  --print-json      print {url, apiKey, storageUrl} as one JSON line, and the request record on exit
`

let values: { config?: string; port?: string; 'print-json'?: boolean; help?: boolean }
try {
  values = parseArgs({
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      'print-json': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  }).values
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const options: SimulatorOptions = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as SimulatorOptions) : {}
if (values.port !== undefined) {
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid --port: ${values.port}\n`)
    process.exit(2)
  }
  options.port = port
}

const sim = await startSimulator(options)
if (values['print-json']) {
  process.stdout.write(`${JSON.stringify({ url: sim.url, apiKey: sim.apiKey, storageUrl: sim.storageUrl })}\n`)
} else {
  process.stdout.write(`CLARI_SIMULATOR_URL=${sim.url}\nCLARI_SIMULATOR_API_KEY=${sim.apiKey}\nCLARI_SIMULATOR_STORAGE_URL=${sim.storageUrl}\n`)
}

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await sim.close()
  if (values['print-json']) {
    process.stdout.write(`${JSON.stringify({ requests: sim.requests, storageRequests: sim.storageRequests, jobs: sim.jobs })}\n`)
  }
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
