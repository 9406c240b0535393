// Entry point, as the runner starts it (node dist/index.js).
import { systemClock } from './clock.ts'
import { run } from './main.ts'

// A cancelled workflow run sends SIGINT, then SIGTERM a few seconds later, then kills.
const cancel = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => cancel.abort())

process.exitCode = await run({ env: process.env, clock: systemClock, random: Math.random, cancelSignal: cancel.signal })
// Requests abandoned by a cancel may still hold sockets open: do not wait on them for
// long, but give stdout a moment to drain first.
setTimeout(() => process.exit(), 1000).unref()
