// Counts the records of a CSV stream (RFC 4180: line breaks inside quotes do not end a
// record), in constant memory, so the summary can show rows without reading the file twice.
export class CsvRowCounter {
  private inQuotes = false
  private records = 0
  private pending = false // bytes seen since the last record ended

  write(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]
      if (c === 0x22) this.inQuotes = !this.inQuotes
      if (c === 0x0a && !this.inQuotes) {
        this.records++
        this.pending = false
      } else if (c !== 0x0d) {
        this.pending = true
      }
    }
  }

  /** Data rows: records after the header. */
  rows(): number {
    return Math.max(0, this.records + (this.pending ? 1 : 0) - 1)
  }
}
