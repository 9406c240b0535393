// Entry point, as the runner starts it (node dist/index.js).
import * as core from '@actions/core'
import { systemClock } from './clock.ts'
import { messageOf } from './errors.ts'
import { run } from './main.ts'

// A cancelled workflow run sends SIGINT, then SIGTERM a few seconds later, then kills.
const cancel = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => cancel.abort())

try {
  process.exitCode = await run({ env: process.env, clock: systemClock, random: Math.random, cancelSignal: cancel.signal })
} catch (e) {
  // A bug, not a Clari fault: say so plainly (the key was masked with ::add-mask:: already).
  core.setFailed(`clari-export stopped on an unexpected error: ${messageOf(e)}. Please report it with this log.`)
  process.exitCode = 1
}
// Requests abandoned by a cancel may still hold sockets open: do not wait on them for
// long, but give stdout a moment to drain first.
setTimeout(() => process.exit(), 1000).unref()
