// The API's field errors, read from an error body in any of the shapes the back end uses:
//   details.errors: [{field, code, message}]   (customers; the gateway's request models)
//   details.fields: {field: problem}           (pool, visits; the gateway's request models)
//   details.field: "name" with the error's own code and message (identity)
// and matched to a form's fields: an error on `landlines[0]` or `location.lat` belongs to the
// form item `landlines` / `location`. Pure; the console's useApiForm shows them next to the field.
import { fieldMessage, type ApiErrorBody, type Locale } from './errors'

export interface FieldError {
  field: string
  code: string
  message: string
}

/** Every field error of a body, in the order the API gave them (none for other errors). */
export function fieldErrorsOf(body: ApiErrorBody | null | undefined): FieldError[] {
  const details = body?.details
  if (!details || typeof details !== 'object') return []
  const out: FieldError[] = []
  const seen = new Set<string>()
  const add = (field: unknown, code: unknown, message: unknown) => {
    if (typeof field !== 'string' || seen.has(field)) return
    seen.add(field)
    out.push({ field, code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : '' })
  }
  const errors = (details as { errors?: unknown }).errors
  if (Array.isArray(errors)) {
    for (const e of errors) if (e && typeof e === 'object') add((e as FieldError).field, (e as FieldError).code, (e as FieldError).message)
  }
  const fields = (details as { fields?: unknown }).fields
  if (fields && typeof fields === 'object' && !Array.isArray(fields)) {
    for (const [field, problem] of Object.entries(fields as Record<string, unknown>)) add(field, '', problem)
  }
  const single = (details as { field?: unknown }).field
  if (typeof single === 'string' && !seen.has(single)) add(single, body?.code ?? '', body?.message ?? '')
  return out
}

/** `landlines[0]` -> `landlines.0`: one spelling of a path. */
export function normalisePath(path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '')
}

/** The form item an error path belongs to: the longest of `props` that is the path or a prefix of it. */
export function propFor(path: string, props: readonly string[]): string | null {
  const p = normalisePath(path)
  let best: string | null = null
  for (const prop of props) {
    const q = normalisePath(prop)
    if ((p === q || p.startsWith(`${q}.`)) && (!best || q.length > normalisePath(best).length)) best = prop
  }
  return best
}

/** A message per form item (the first error of each), the rest returned apart so nothing is lost. */
export function errorsByProp(
  body: ApiErrorBody | null | undefined,
  props: readonly string[],
  locale: Locale,
): { byProp: Record<string, string>; other: string[] } {
  const byProp: Record<string, string> = {}
  const other: string[] = []
  for (const e of fieldErrorsOf(body)) {
    const text = fieldMessage(e.code, e.message, locale)
    const prop = propFor(e.field, props)
    if (prop && !(prop in byProp)) byProp[prop] = text
    else if (!prop) other.push(`${e.field}: ${text}`)
  }
  return { byProp, other }
}
