#!/usr/bin/env bash
# npm run local-action: runs src/main.ts with @github/local-action against the simulator,
# using the inputs in .env.example, and checks every period was exported.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p clari-exports
rm -f clari-exports/manifest.json clari-exports/summary.md
log=$(mktemp)
node test/simulator/cli.ts --port 8787 >"$log" 2>&1 &
sim=$!
trap 'kill -INT $sim 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 50); do
  grep -q CLARI_SIMULATOR_URL "$log" && break
  kill -0 $sim 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

local-action run . src/main.ts .env.example
# local-action exits 0 even when the action fails: check what it produced.
node -e "
const m = require('./clari-exports/manifest.json')
console.log('manifest.json: ' + m.periods.map(p => p.period + ' ' + p.status).join(', '))
process.exit(m.periods.every(p => p.status === 'DONE') ? 0 : 1)"
