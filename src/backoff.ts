// Exponential backoff with full jitter (AWS architecture blog): a random wait between 0
// and min(cap, base * 2^attempt), so clients that failed together do not retry together.
export function fullJitterBackoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt)
  // Never zero: a floor of a tenth of the base keeps a storm of failures from spinning.
  return Math.max(baseMs / 10, random() * ceiling)
}
