// manifest.json: what the run produced, for the downstream job that loads the files.
import { writeFile, rename } from 'node:fs/promises'
import * as path from 'node:path'
import type { PeriodResult } from './period-result.ts'

export const MANIFEST_FILE = 'manifest.json'

export interface RunStats {
  requests: number
  rateLimited: number
  retries: number
  waitedSeconds: number
}

export interface Manifest {
  forecastId: string
  generatedAt: string
  periods: PeriodResult[]
  stats: RunStats
}

/** Writes the manifest atomically; returns its absolute path. */
export async function writeManifest(outputDir: string, manifest: Manifest, redact: (s: string) => string): Promise<string> {
  const file = path.join(outputDir, MANIFEST_FILE)
  await writeFile(`${file}.partial`, redact(`${JSON.stringify(manifest, null, 2)}\n`))
  await rename(`${file}.partial`, file)
  return file
}
