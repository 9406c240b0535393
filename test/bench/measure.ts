// Measuring helpers: run dist/index.js as the runner does (optionally sampling its peak
// RSS), small statistics, and the physical limits of a workload.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { ACTION, actionEnv, NODE24, parseOutputs } from '../support/run-action.ts'

export interface ChildRun {
  code: number | null
  /** Date.now() when the child process exited. */
  exitAt: number
  outputs: Record<string, string>
  /** The last few KB of stdout + stderr, for failures. */
  tail: string
  /** Last VmHWM read before exit, in kB (only with sampleRss). */
  peakRssKb?: number
  workspace: string
  /** Deletes the workspace and its output and summary files. */
  cleanup(): Promise<void>
}

export async function runChild(inputs: Record<string, string>, opts: { sampleRss?: boolean } = {}): Promise<ChildRun> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'clari-bench-'))
  const files = { workspace, outputFile: `${workspace}.output`, summaryFile: `${workspace}.summary.md` }
  await writeFile(files.outputFile, '')
  await writeFile(files.summaryFile, '')
  const child = spawn(NODE24, [ACTION], { cwd: workspace, env: actionEnv(inputs, files), stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (d: Buffer): void => void (tail = (tail + d.toString()).slice(-4000))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)

  // VmHWM is the kernel's own high-water mark, so a 50 ms sample misses at most the last 50 ms.
  let peakRssKb: number | undefined
  const sampler = opts.sampleRss
    ? setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
          if (m) peakRssKb = Number(m[1])
        } catch {
          // The process is gone (or not yet there); keep the last value read.
        }
      }, 50)
    : undefined
  const killer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000)
  // 'exit' (the process is gone) always comes before 'close' (its pipes are drained).
  let exitAt = 0
  child.on('exit', () => {
    exitAt = Date.now()
    clearInterval(sampler)
  })
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(killer)
  const outputs = parseOutputs(await readFile(files.outputFile, 'utf8'))
  return {
    code,
    exitAt,
    outputs,
    tail,
    peakRssKb,
    workspace,
    async cleanup() {
      await rm(workspace, { recursive: true, force: true })
      await rm(files.outputFile, { force: true })
      await rm(files.summaryFile, { force: true })
    }
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Best makespan of `jobs` on `slots` parallel slots, by trying every assignment (slots^n). */
export function bestMakespan(jobs: number[], slots: number): number {
  let best = Infinity
  const load = new Array<number>(slots).fill(0)
  const place = (i: number): void => {
    if (i === jobs.length) return void (best = Math.min(best, Math.max(...load)))
    for (let s = 0; s < slots; s++) {
      load[s] += jobs[i]
      if (load[s] < best) place(i + 1)
      load[s] -= jobs[i]
    }
  }
  place(0)
  return best
}

/** Makespan when jobs start in the given order, each on the first slot to come free (what a FIFO queue does). */
export function inOrderMakespan(jobs: number[], slots: number): number {
  const free = new Array<number>(slots).fill(0)
  for (const job of jobs) {
    const s = free.indexOf(Math.min(...free))
    free[s] += job
  }
  return Math.max(...free)
}
