// The action's main job: inputs → Clari export jobs → files + manifest → artifact →
// outputs, summary and exit status. Whatever finished is kept, whatever else happens.
import * as core from '@actions/core'
import { mkdir } from 'node:fs/promises'
import * as path from 'node:path'
import { ArtifactStore, canUpload, type UploadedArtifact } from './artifact.ts'
import { ClariClient } from './clari-client.ts'
import { systemClock, type Clock } from './clock.ts'
import { cancellation } from './cancellation.ts'
import { Aborted, ClariError, messageOf } from './errors.ts'
import { Transport } from './http.ts'
import { InputError, readConfig, type Config } from './inputs.ts'
import { writeManifest, type Manifest } from './manifest.ts'
import { PeriodLog } from './period-log.ts'
import { emptyResult, type PeriodResult } from './period-result.ts'
import { RateGate } from './rate-gate.ts'
import { Redactor } from './redact.ts'
import { runExports, type RunOutcome } from './run-exports.ts'
import { renderSummary, size } from './summary.ts'
import { verdict } from './verdict.ts'

/** Per-period error annotations, leaving room for the step's own error among GitHub's 10. */
const MAX_PERIOD_ANNOTATIONS = 8

export interface MainDeps {
  env: NodeJS.ProcessEnv
  clock: Clock
  random: () => number
  /** Fires when the run must stop early (SIGINT/SIGTERM); index.ts wires the signals. */
  cancelSignal?: AbortSignal
}

/** Runs the action; returns the process exit code. */
export async function run(deps: MainDeps = { env: process.env, clock: systemClock, random: Math.random }): Promise<number> {
  const redactor = new Redactor()
  const apiKey = core.getInput('api-key')
  if (apiKey.trim()) {
    // ::add-mask:: tells the runner to mask the key; run anywhere else it would only print it.
    if (deps.env.GITHUB_ACTIONS === 'true') core.setSecret(apiKey.trim())
    redactor.add(apiKey.trim())
  }
  const redact = (s: string): string => redactor.redact(s)
  // Downstream steps parse these with fromJSON(): they hold valid JSON even when the step fails early.
  core.setOutput('succeeded', '[]')
  core.setOutput('failed', '[]')
  core.setOutput('job-ids', '{}')
  let config: Config
  try {
    config = readConfig(name => core.getInput(name), deps.env.GITHUB_WORKSPACE || process.cwd())
  } catch (e) {
    core.setFailed(redact(e instanceof InputError ? e.message : `Could not read the inputs: ${messageOf(e)}`))
    return 1
  }
  if (config.duplicatePeriods.length > 0) {
    core.notice(`periods: dropped duplicate period(s) ${[...new Set(config.duplicatePeriods)].join(', ')}; each period is exported once`)
  }

  core.setOutput('failed', JSON.stringify(config.periods))
  // From here on a cancel or the deadline stops the run, whatever it is waiting on.
  const { signal, cleanupSignal, reason, dispose } = cancellation(config.timeoutMs, deps.clock, deps.cancelSignal, m => core.warning(m))
  try {
    await mkdir(config.outputDir, { recursive: true })
  } catch (e) {
    dispose()
    core.setFailed(redact(`Input 'output-dir' is "${config.outputDir}", which cannot be used as a folder (${messageOf(e)}); give a folder path that does not name a file`))
    return 1
  }
  core.setOutput('output-dir', config.outputDir)

  const store = config.uploadArtifact && canUpload(deps.env) ? new ArtifactStore(deps.env) : undefined
  // A re-run must not burn quota only to fail at upload time: check the name first.
  if (store && !config.overwrite && !signal.aborted) {
    try {
      if (await store.exists(config.artifactName)) {
        dispose()
        core.setFailed(
          `An artifact named "${config.artifactName}" already exists on this workflow run (a re-run?). Set 'overwrite: true' to replace it, or choose another 'artifact-name'. No Clari export was started.`
        )
        return 1
      }
    } catch (e) {
      core.warning(redact(`Could not check for an existing artifact named "${config.artifactName}": ${messageOf(e)}`))
    }
  }

  const gate = new RateGate(deps.clock)
  const log = new PeriodLog(deps.clock, { info: core.info, debug: core.debug, group: printGroup }, redact)
  const transportFor = (s: AbortSignal, g: RateGate): Transport =>
    new Transport({
      clock: deps.clock,
      gate: g,
      redactor,
      signal: s,
      requestTimeoutMs: config.requestTimeoutMs,
      backoffBaseMs: config.pollIntervalMs,
      backoffCapMs: config.maxPollIntervalMs,
      random: deps.random,
      log: m => core.info(redact(m))
    })
  const transport = transportFor(signal, gate)
  // Cancels get their own gate: a long rate-limit pause must not keep them from going out.
  const cleanupTransport = transportFor(cleanupSignal, new RateGate(deps.clock))
  const client = new ClariClient(transport, config.baseUrl, config.apiKey, redactor)
  const cleanupClient = new ClariClient(cleanupTransport, config.baseUrl, config.apiKey, redactor)

  let outcome: RunOutcome
  try {
    outcome = await runExports({
      config,
      client,
      cleanupClient,
      clock: deps.clock,
      signal,
      random: deps.random,
      log: log.log,
      event: log.event,
      info: m => core.info(redact(m)),
      warn: m => core.warning(redact(m))
    })
  } catch (e) {
    if (!(e instanceof ClariError || e instanceof Aborted)) throw e
    outcome = { results: [], concurrency: 0, fatal: e instanceof ClariError ? e : new ClariError('cancelled', `the run was cancelled (${reason()})`) }
  }
  dispose()
  const results = completeResults(config, outcome)
  for (const r of results) log.flush(r.period, oneLine(r))

  const stats = {
    requests: transport.stats.requests + cleanupTransport.stats.requests,
    rateLimited: transport.stats.rateLimited + cleanupTransport.stats.rateLimited,
    retries: transport.stats.retries + cleanupTransport.stats.retries,
    waitedSeconds: Math.round(gate.waitedMs) / 1000
  }
  const manifest: Manifest = { forecastId: config.forecastId, generatedAt: new Date(deps.clock.now()).toISOString(), periods: results, stats }
  let manifestPath = ''
  let manifestError: string | undefined
  try {
    manifestPath = await writeManifest(config.outputDir, manifest, redact)
  } catch (e) {
    manifestError = redact(`Could not write manifest.json in ${config.outputDir}: ${messageOf(e)}`)
  }

  const done = results.filter(r => r.status === 'DONE')
  const files = [...done.map(r => path.join(config.outputDir, r.file as string)), ...(manifestPath ? [manifestPath] : [])]
  const { artifact, note: artifactNote, error: uploadError } = await publish(store, files, config, redact)
  const succeeded = done.map(r => r.period)
  const failed = results.filter(r => r.status !== 'DONE').map(r => r.period)
  core.setOutput('succeeded', JSON.stringify(succeeded))
  core.setOutput('failed', JSON.stringify(failed))
  core.setOutput('job-ids', JSON.stringify(Object.fromEntries(results.filter(r => r.jobId).map(r => [r.period, r.jobId]))))
  core.setOutput('manifest', manifestPath)
  core.setOutput('artifact-id', artifact ? String(artifact.id) : '')
  core.setOutput('artifact-url', artifact?.url ?? '')

  const fatal = outcome.fatal ? redact(outcome.fatal.message) : undefined
  await writeSummary(redact(renderSummary(manifest, { concurrency: outcome.concurrency, artifactUrl: artifact?.url ?? '', artifactNote, fatal })))
  // One annotation per period that failed on its own (GitHub shows only the first 10 of a step);
  // periods never started are covered by the run's own error.
  const ownFailures = results.filter(r => r.status !== 'DONE' && !r.error?.startsWith('not started'))
  for (const r of ownFailures.slice(0, MAX_PERIOD_ANNOTATIONS)) core.error(redact(`${r.period}: ${r.error ?? r.status}`), { title: `Clari export of ${r.period} failed` })
  if (ownFailures.length > MAX_PERIOD_ANNOTATIONS) core.error(`… and ${ownFailures.length - MAX_PERIOD_ANNOTATIONS} more failed period(s); see the job summary`)

  const end = verdict({
    results,
    failOn: config.failOn,
    outputDir: config.outputDir,
    stoppedBecause: signal.aborted ? reason() : undefined,
    uncancelled: outcome.uncancelled ?? [],
    fatal,
    manifestError,
    uploadError
  })
  if (end.error) core.setFailed(redact(end.error))
  if (end.warning) core.warning(redact(end.warning))
  return end.code
}

/** Every period asked for appears in the manifest, even when the run stopped before it. */
function completeResults(config: Config, outcome: RunOutcome): PeriodResult[] {
  return config.periods.map(p => {
    const found = outcome.results.find(r => r.period === p)
    if (found) return found
    const r = emptyResult(p)
    r.error = `not started: ${outcome.fatal?.message ?? 'the run stopped'}`
    return r
  })
}

function oneLine(r: PeriodResult): string {
  const took = r.startedAt && r.finishedAt ? ` in ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : ''
  const detail = r.status === 'DONE' ? `${r.file}, ${size(r.bytes)}` : (r.error ?? '')
  return `${r.period}: ${r.status}${took}, ${r.polls} poll(s)${r.jobId ? `, job ${r.jobId}` : ''}: ${detail}`
}

/** Uploads the files as the artifact when it can; says what happened either way. */
async function publish(
  store: ArtifactStore | undefined,
  files: string[],
  config: Config,
  redact: (s: string) => string
): Promise<{ artifact?: UploadedArtifact; note: string; error?: string }> {
  if (!config.uploadArtifact) return { note: 'not uploaded (upload-artifact: false)' }
  if (!store) {
    const note = `not uploaded: not running on GitHub Actions (no ACTIONS_RUNTIME_TOKEN); the files are in ${config.outputDir}`
    core.notice(note)
    return { note }
  }
  try {
    const artifact = await store.upload(files, config.outputDir, {
      name: config.artifactName,
      retentionDays: config.retentionDays,
      compressionLevel: config.compressionLevel,
      overwrite: config.overwrite
    })
    core.info(`Uploaded artifact ${config.artifactName} (id ${artifact.id})`)
    return { artifact, note: `${config.artifactName} (${files.length} file(s) with manifest.json, ${size(artifact.size)} zipped)` }
  } catch (e) {
    const error = redact(`Uploading the artifact "${config.artifactName}" failed: ${messageOf(e)}. The files are still in ${config.outputDir}.`)
    return { note: error, error }
  }
}

function printGroup(title: string, lines: string[]): void {
  core.startGroup(title)
  for (const l of lines) core.info(l)
  core.endGroup()
}

async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(markdown).write()
  } catch (e) {
    core.warning(`Could not write the job summary: ${messageOf(e)}`)
  }
}
