// Checks that a stream of bytes is one well-formed JSON document, in constant memory
// (a byte-level pushdown automaton: only the nesting stack grows). Exports can be
// hundreds of MB, so JSON.parse on the whole file is not an option.

const S = {
  VALUE: 0, // a value must come next
  AFTER_VALUE: 1, // ',' or a closing bracket (or the end, at the top)
  KEY_OR_END: 2, // just after '{'
  KEY: 3, // after ',' inside an object
  COLON: 4,
  VALUE_OR_END: 5, // just after '['
  STRING: 6,
  ESCAPE: 7,
  UNICODE: 8,
  NUMBER: 9,
  LITERAL: 10,
  DONE: 11
} as const

// Number sub-states: which part of -12.5e+3 we are in.
const N_MINUS = 0,
  N_ZERO = 1,
  N_INT = 2,
  N_DOT = 3,
  N_FRAC = 4,
  N_E = 5,
  N_ESIGN = 6,
  N_EXP = 7

const OBJECT = 1
const ARRAY = 2
const MAX_DEPTH = 10_000

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

export class JsonChecker {
  private state: number = S.VALUE
  private stack = new Uint8Array(64)
  private depth = 0
  private keyString = false
  private num = 0
  private hexLeft = 0
  private literal = ''
  private literalPos = 0
  private offset = 0
  private topItems = 0
  private topItemsAllArrays = true
  private error: string | undefined
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true })

  /** Feeds the next chunk; returns false once the document is known to be bad. */
  write(chunk: Uint8Array): boolean {
    if (this.error) return false
    try {
      this.utf8.decode(chunk, { stream: true })
    } catch {
      return this.fail('invalid UTF-8')
    }
    for (let i = 0; i < chunk.length; i++) {
      if (!this.step(chunk[i])) return false
      this.offset++
    }
    return true
  }

  /** Call at the end of the stream; returns an error message or undefined when valid. */
  end(): string | undefined {
    if (this.error) return this.error
    try {
      this.utf8.decode()
    } catch {
      this.fail('invalid UTF-8 at the end')
      return this.error
    }
    if (this.state === S.NUMBER && this.depth === 0 && this.numberCanEnd()) this.state = S.DONE
    if (this.state === S.AFTER_VALUE && this.depth === 0) this.state = S.DONE
    if (this.state !== S.DONE) return `the JSON ends early at byte ${this.offset} (truncated?)`
    return undefined
  }

  /** Data rows of Clari's table shape (an array of row arrays, the first the header), else undefined. */
  rows(): number | undefined {
    return this.topItems > 0 && this.topItemsAllArrays ? this.topItems - 1 : undefined
  }

  private fail(why: string): false {
    this.error = `invalid JSON at byte ${this.offset}: ${why}`
    return false
  }

  private numberCanEnd(): boolean {
    return this.num === N_ZERO || this.num === N_INT || this.num === N_FRAC || this.num === N_EXP
  }

  private push(kind: number): boolean {
    if (this.depth >= MAX_DEPTH) return this.fail('nested too deeply')
    if (this.depth === this.stack.length) {
      const bigger = new Uint8Array(this.stack.length * 2)
      bigger.set(this.stack)
      this.stack = bigger
    }
    this.stack[this.depth++] = kind
    return true
  }

  private close(kind: number): boolean {
    if (this.depth === 0 || this.stack[this.depth - 1] !== kind) return this.fail(`unexpected '${kind === OBJECT ? '}' : ']'}'`)
    this.depth--
    this.state = this.depth === 0 ? S.DONE : S.AFTER_VALUE
    return true
  }

  private startValue(c: number): boolean {
    if (this.depth === 1 && this.stack[0] === ARRAY) {
      this.topItems++
      if (c !== 0x5b) this.topItemsAllArrays = false
    }
    switch (c) {
      case 0x7b: // {
        this.state = S.KEY_OR_END
        return this.push(OBJECT)
      case 0x5b: // [
        this.state = S.VALUE_OR_END
        return this.push(ARRAY)
      case 0x22: // "
        this.keyString = false
        this.state = S.STRING
        return true
      case 0x2d: // -
        this.num = N_MINUS
        this.state = S.NUMBER
        return true
      case 0x74: // t
      case 0x66: // f
      case 0x6e: // n
        this.literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null'
        this.literalPos = 1
        this.state = S.LITERAL
        return true
    }
    if (isDigit(c)) {
      this.num = c === 0x30 ? N_ZERO : N_INT
      this.state = S.NUMBER
      return true
    }
    return this.fail(`unexpected ${JSON.stringify(String.fromCharCode(c))} where a value should start`)
  }

  private valueEnded(): void {
    this.state = this.depth === 0 ? S.DONE : S.AFTER_VALUE
  }

  private step(c: number): boolean {
    switch (this.state) {
      case S.VALUE:
        return isWs(c) ? true : this.startValue(c)
      case S.VALUE_OR_END:
        if (isWs(c)) return true
        return c === 0x5d ? this.close(ARRAY) : this.startValue(c)
      case S.KEY_OR_END:
      case S.KEY:
        if (isWs(c)) return true
        if (c === 0x7d && this.state === S.KEY_OR_END) return this.close(OBJECT)
        if (c !== 0x22) return this.fail('expected a string key')
        this.keyString = true
        this.state = S.STRING
        return true
      case S.COLON:
        if (isWs(c)) return true
        if (c !== 0x3a) return this.fail("expected ':'")
        this.state = S.VALUE
        return true
      case S.AFTER_VALUE:
        if (isWs(c)) return true
        if (c === 0x2c) {
          this.state = this.stack[this.depth - 1] === OBJECT ? S.KEY : S.VALUE
          return true
        }
        if (c === 0x7d) return this.close(OBJECT)
        if (c === 0x5d) return this.close(ARRAY)
        return this.fail("expected ',' or a closing bracket")
      case S.STRING:
        if (c === 0x22) {
          if (this.keyString) this.state = S.COLON
          else this.valueEnded()
          return true
        }
        if (c === 0x5c) this.state = S.ESCAPE
        else if (c < 0x20) return this.fail('control character inside a string')
        return true
      case S.ESCAPE:
        if (c === 0x75) {
          this.hexLeft = 4
          this.state = S.UNICODE
          return true
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(c))) return this.fail('bad escape in a string')
        this.state = S.STRING
        return true
      case S.UNICODE:
        if (!isHex(c)) return this.fail('bad \\u escape')
        if (--this.hexLeft === 0) this.state = S.STRING
        return true
      case S.NUMBER:
        return this.stepNumber(c)
      case S.LITERAL:
        if (c !== this.literal.charCodeAt(this.literalPos)) return this.fail(`expected ${this.literal}`)
        if (++this.literalPos === this.literal.length) this.valueEnded()
        return true
      case S.DONE:
        return isWs(c) ? true : this.fail('data after the end of the document')
    }
    return this.fail('internal state')
  }

  private stepNumber(c: number): boolean {
    const digit = isDigit(c)
    const exponent = c === 0x65 || c === 0x45
    const n = this.num
    if (n === N_MINUS) {
      if (!digit) return this.fail('bad number')
      this.num = c === 0x30 ? N_ZERO : N_INT
      return true
    }
    if (n === N_DOT || n === N_ESIGN) {
      if (!digit) return this.fail('bad number')
      this.num = n === N_DOT ? N_FRAC : N_EXP
      return true
    }
    if (n === N_E) {
      if (c === 0x2b || c === 0x2d) this.num = N_ESIGN
      else if (digit) this.num = N_EXP
      else return this.fail('bad number')
      return true
    }
    if (digit && n !== N_ZERO) return true // more digits of an integer, fraction or exponent
    if (c === 0x2e && (n === N_ZERO || n === N_INT)) return ((this.num = N_DOT), true)
    if (exponent && n !== N_EXP) return ((this.num = N_E), true)
    // The number ended; this byte belongs to whatever follows it.
    this.valueEnded()
    return this.step(c)
  }
}
