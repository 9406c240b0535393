// Validation of the create-export body, with the codes and messages of Clari's
// OpenAPI description (namespace fcw).
import type { Parsed } from './http.ts'

export interface CreateError {
  code: string
  message: string
}

export type Validated = { ok: true; body: Record<string, unknown> } | { ok: false; error: CreateError }

const TYPES = ['forecast', 'quota', 'forecast_updated', 'adjustment', 'crm_total', 'crm_closed']
const CRM_TYPES = ['crm_total', 'crm_closed']
const FORMATS = ['JSON', 'CSV']
const SCHEDULES = ['NONE', 'ONCE', 'MAX']

const CRM_MESSAGE =
  'CRM Totals and CRM Closed are not supported typeToExport values for Export API. Please see Forecast API documentation if you’d like to retrieve CRM Totals or CRM Closed values.'

function bad(message: string): Validated {
  return { ok: false, error: { code: 'bad_request', message } }
}

export function validateCreate(parsed: Parsed): Validated {
  if (parsed.kind === 'empty') return { ok: true, body: {} }
  const raw = parsed.kind === 'text' ? parsed.value : JSON.stringify(parsed.value)
  if (parsed.kind === 'text' || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    return bad(`The request body was malformed: ${raw}`)
  }
  const body = parsed.value as Record<string, unknown>

  if (body.timePeriod !== undefined && (typeof body.timePeriod !== 'string' || !/^\d{4}_Q[1-4]$/.test(body.timePeriod))) {
    return bad('The timePeriod parameter is invalid.')
  }
  if (body.typesToExport !== undefined) {
    const types = body.typesToExport
    if (!Array.isArray(types) || types.some(t => typeof t !== 'string')) return bad(`The request body was malformed: ${raw}`)
    if (types.some((t: string) => CRM_TYPES.includes(t))) return { ok: false, error: { code: 'type_not_supported', message: CRM_MESSAGE } }
    const unknown = types.filter((t: string) => !TYPES.includes(t))
    if (unknown.length > 0) {
      return bad(`The following typesToExport values are invalid: [${unknown.map((t: string) => JSON.stringify(t)).join(', ')}]`)
    }
  }
  if (body.exportFormat !== undefined && !FORMATS.includes(body.exportFormat as string)) return bad('The exportFormat parameter is invalid.')
  if (body.schedule !== undefined && !SCHEDULES.includes(body.schedule as string)) return bad('The schedule parameter is invalid.')
  if (body.includeHistorical !== undefined && typeof body.includeHistorical !== 'boolean') return bad('The includeHistorical parameter is invalid.')
  if (body.currency != null && (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency))) {
    return bad('The currency parameter is invalid.')
  }
  if (body.scopeId != null && typeof body.scopeId !== 'string') return bad('The scopeId parameter is invalid.')
  return { ok: true, body }
}
