// Every failure the run can meet, each with a message that says what happened and what to do.

export type FailureKind =
  | 'auth' // 401/403: no retry can fix it
  | 'rejected' // 400: Clari refused the request as given
  | 'transient' // 5xx or a dropped connection, after the retries ran out
  | 'rate-limited' // still 429 after the retries ran out
  | 'lost' // the answer was lost and we cannot tell what happened
  | 'unreachable' // no connection to Clari at all: nothing was sent
  | 'download' // a results download that stayed short or broken
  | 'export' // the job itself failed or its data was unusable
  | 'quota' // the monthly quota is used up
  | 'cancelled' // the run was cancelled or ran out of time

export class ClariError extends Error {
  readonly kind: FailureKind
  readonly status?: number
  readonly code?: string
  /** The same request would fail for every period (a bad forecast, type or currency). */
  runWide = false
  constructor(kind: FailureKind, message: string, status?: number, code?: string) {
    super(message)
    this.name = 'ClariError'
    this.kind = kind
    this.status = status
    this.code = code
  }
}

/** The run was cancelled (signal or deadline) while this call waited. */
export class Aborted extends Error {
  constructor() {
    super('the run was cancelled')
    this.name = 'Aborted'
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
