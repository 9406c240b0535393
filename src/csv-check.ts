// Checks a CSV stream in constant memory (RFC 4180: quotes may hold commas and line
// breaks): every record has the header's number of fields, and no quote is left open.
// Catches what a proxy serves in place of the export (an HTML error page) and counts rows.
export class CsvChecker {
  private inQuotes = false
  private justClosed = false // a quote just closed a quoted field: another one is an escaped ""
  private atFieldStart = true // only there does a quote open a quoted field
  private fields = 1 // fields of the record being read
  private pending = false // bytes of that record seen
  private headerFields = 0
  private records = 0
  private problem: string | undefined

  write(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]
      const closed = this.justClosed
      this.justClosed = false
      if (c === 0x22) {
        if (this.inQuotes) {
          this.inQuotes = false
          this.justClosed = true
        } else if (closed || this.atFieldStart) {
          this.inQuotes = true // opens a quoted field, or is the second quote of an escaped ""
        } // else: a stray quote inside an unquoted field (27" monitor) is data
      } else if (this.inQuotes) {
        // inside quotes everything is data
      } else if (c === 0x2c) {
        this.fields++
        this.atFieldStart = true
        this.pending = true
        continue
      } else if (c === 0x0a) {
        this.endRecord()
        continue
      } else if (c === 0x0d) continue
      this.pending = true
      this.atFieldStart = false
    }
  }

  /** At the end of the stream: a problem, or undefined when the CSV is sound. */
  end(): string | undefined {
    if (this.inQuotes) return 'a quoted field is never closed (cut short?)'
    if (this.pending || this.fields > 1) this.endRecord()
    if (this.problem) return this.problem
    if (this.records > 0 && this.headerFields < 2) return `its first line has ${this.headerFields} column, not a header of an export`
    return undefined
  }

  /** Data rows: records after the header. */
  rows(): number {
    return Math.max(0, this.records - 1)
  }

  private endRecord(): void {
    const blank = !this.pending && this.fields === 1
    if (!blank) {
      if (this.records === 0) this.headerFields = this.fields
      else if (this.fields !== this.headerFields && !this.problem) {
        this.problem = `record ${this.records + 1} has ${this.fields} fields where the header has ${this.headerFields}`
      }
      this.records++
    }
    this.fields = 1
    this.pending = false
    this.atFieldStart = true
  }
}
