// The finished exports as one workflow artifact. A re-run of the job finds the artifact
// of its first attempt on the same run: it is replaced only when `overwrite` says so.
// A namespace import: @github/local-action swaps in a stand-in module that has only the client.
import * as artifact from '@actions/artifact'

export interface ArtifactOptions {
  name: string
  retentionDays: number
  compressionLevel: number
  overwrite: boolean
}

export interface UploadedArtifact {
  id: number
  size: number
  url: string
}

/** Uploads need the runner's token; outside GitHub Actions there is nowhere to upload. */
export function canUpload(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL)
}

export class ArtifactStore {
  private readonly client = new artifact.DefaultArtifactClient()
  private readonly env: NodeJS.ProcessEnv

  constructor(env: NodeJS.ProcessEnv) {
    this.env = env
  }

  /** True when this workflow run already has an artifact of that name. */
  async exists(name: string): Promise<boolean> {
    try {
      await this.client.getArtifact(name)
      return true
    } catch (e) {
      if (e instanceof Error && e.name === 'ArtifactNotFoundError') return false
      throw e
    }
  }

  async upload(files: string[], rootDir: string, o: ArtifactOptions): Promise<UploadedArtifact> {
    if (o.overwrite && (await this.exists(o.name))) await this.client.deleteArtifact(o.name)
    const res = await this.client.uploadArtifact(o.name, files, rootDir, {
      compressionLevel: o.compressionLevel,
      ...(o.retentionDays > 0 ? { retentionDays: o.retentionDays } : {})
    })
    if (res.id === undefined) throw new Error('the artifact service did not return an artifact id')
    return { id: res.id, size: res.size ?? 0, url: this.urlOf(res.id) }
  }

  private urlOf(id: number): string {
    const { GITHUB_SERVER_URL: server = 'https://github.com', GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = this.env
    return repo && runId ? `${server}/${repo}/actions/runs/${runId}/artifacts/${id}` : ''
  }
}
