// Fault injection: an ordered list of faults, each good for `times` matches.
// Callers ask only for the kinds that apply at their point in the request, so a
// lost-create is consumed only once a job was really created, a truncate only
// when content is really served.
import type { Fault, FaultRoute } from './types.ts'

export interface FaultContext {
  route: FaultRoute | 'unknown'
  label?: string // the job's period as requested, or 'current'
  resolved?: string // the quarter that label means
}

interface Slot {
  fault: Fault
  left: number
}

type Kind = Fault['kind']

export class FaultBook {
  #slots: Slot[] = []

  add(fault: Fault): void {
    this.#slots.push({ fault, left: fault.times ?? 1 })
  }

  take<K extends Kind>(kinds: readonly K[], ctx: FaultContext): Extract<Fault, { kind: K }> | undefined {
    for (const slot of this.#slots) {
      if (slot.left <= 0 || !(kinds as readonly Kind[]).includes(slot.fault.kind)) continue
      if (!routeMatches(slot.fault, ctx.route) || !periodMatches(slot.fault, ctx)) continue
      slot.left--
      return slot.fault as Extract<Fault, { kind: K }>
    }
    return undefined
  }
}

function routeMatches(fault: Fault, route: FaultContext['route']): boolean {
  switch (fault.kind) {
    case 'status':
    case 'drop':
    case 'echo-key':
      return fault.route === 'any' || fault.route === route
    case 'lost-create':
      return route === 'create'
    case 'truncate':
    case 'redirect':
    case 'corrupt':
      return route === 'results'
  }
}

function periodMatches(fault: Fault, ctx: FaultContext): boolean {
  if (fault.period === undefined) return true
  return fault.period === ctx.label || fault.period === ctx.resolved
}
