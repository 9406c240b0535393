// Runs dist/index.js the way the GitHub runner does: a Node 24 child process with
// INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, in a workspace folder.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const ACTION = path.join(ROOT, 'dist/index.js')
/** Node 24 from the `node` dev dependency: the runtime action.yml names. */
export const NODE24 = path.join(ROOT, 'node_modules/node/bin/node')

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  workspace: string
  /** Every byte the action printed or wrote, for "the key appears nowhere" checks. */
  everything(): Promise<string>
}

export interface RunOptions {
  env?: Record<string, string>
  workspace?: string
  /** Send this signal after `signalAfterMs`. */
  signal?: { name: NodeJS.Signals; afterMs: number }
  killAfterMs?: number
}

export async function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  if (!existsSync(NODE24)) throw new Error(`Node 24 not found at ${NODE24}; run npm ci`)
  const workspace = options.workspace ?? (await mkdtemp(path.join(tmpdir(), 'clari-ws-')))
  const outputFile = path.join(workspace, '..', `${path.basename(workspace)}.output`)
  const summaryFile = path.join(workspace, '..', `${path.basename(workspace)}.summary.md`)
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env = actionEnv(inputs, { workspace, outputFile, summaryFile }, options.env)
  const child = spawn(NODE24, [ACTION], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => (stdout += d))
  child.stderr.on('data', d => (stderr += d))
  if (options.signal) {
    const { name, afterMs } = options.signal
    setTimeout(() => child.kill(name), afterMs)
  }
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(killer)
  const outputs = parseOutputs(await readFile(outputFile, 'utf8'))
  const summary = await readFile(summaryFile, 'utf8')
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary,
    workspace,
    async everything() {
      const { readdir } = await import('node:fs/promises')
      let all = stdout + stderr + summary + (await readFile(outputFile, 'utf8'))
      const dir = outputs['output-dir']
      if (dir && existsSync(dir)) for (const f of await readdir(dir)) all += await readFile(path.join(dir, f), 'utf8')
      return all
    }
  }
}

/** The environment the runner gives an action: inputs, workspace, output and summary files. */
export function actionEnv(
  inputs: Record<string, string>,
  files: { workspace: string; outputFile: string; summaryFile: string },
  extra: Record<string, string> = {}
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: files.workspace,
    GITHUB_OUTPUT: files.outputFile,
    GITHUB_STEP_SUMMARY: files.summaryFile,
    RUNNER_TEMP: tmpdir(),
    ...extra
  }
  // @actions/core reads input "api-key" from INPUT_API-KEY.
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  return env
}

/** Parses the `name<<delimiter … delimiter` blocks @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}
