// A server-paged table's state (filters, page, page size) <-> the URL's query string, so that a
// view can be bookmarked and shared and back/forward walk through what the user did. Pure: the
// console's useServerTable composable does the routing and the fetching.

export type FilterValue = string | string[] | boolean
export type Filters = Record<string, FilterValue>
export type Query = Record<string, string | null | (string | null)[] | undefined>

export interface TableState<F extends Filters> {
  filters: F
  page: number
  pageSize: number
}

export const PAGE_SIZES = [10, 20, 50, 100] as const
export const DEFAULT_PAGE_SIZE = 20

function first(v: Query[string]): string | undefined {
  if (Array.isArray(v)) return v.find((x): x is string => typeof x === 'string')
  return typeof v === 'string' ? v : undefined
}

function positive(v: string | undefined, fallback: number, max: number): number {
  if (!v || !/^\d{1,6}$/.test(v)) return fallback
  const n = Number(v)
  return n >= 1 && n <= max ? n : fallback
}

/** Read the state from a query; a filter takes the type of its default (a list, a flag or text),
 *  anything malformed falls back to the default. */
export function readQuery<F extends Filters>(query: Query, defaults: F, pageSizes: readonly number[] = PAGE_SIZES): TableState<F> {
  const filters = { ...defaults }
  for (const [key, def] of Object.entries(defaults)) {
    const raw = query[key]
    if (raw === undefined) continue
    if (Array.isArray(def)) {
      const list = (Array.isArray(raw) ? raw : [raw]).filter((x): x is string => typeof x === 'string' && x !== '')
      ;(filters as Filters)[key] = list
    } else if (typeof def === 'boolean') {
      const v = first(raw)
      ;(filters as Filters)[key] = v === '1' || v === 'true'
    } else {
      const v = first(raw)
      if (v !== undefined) (filters as Filters)[key] = v.slice(0, 200)
    }
  }
  const size = positive(first(query.page_size), DEFAULT_PAGE_SIZE, 1000)
  return {
    filters,
    page: positive(first(query.page), 1, 100_000),
    pageSize: pageSizes.includes(size) ? size : DEFAULT_PAGE_SIZE,
  }
}

/** The query for a state: only what differs from the defaults (short, stable URLs). Keys of the
 *  current query that the table does not own (e.g. an open drawer's id) are kept. */
export function writeQuery<F extends Filters>(state: TableState<F>, defaults: F, keep: Query = {}): Query {
  const out: Query = {}
  for (const [k, v] of Object.entries(keep)) {
    if (!(k in defaults) && k !== 'page' && k !== 'page_size') out[k] = v
  }
  for (const [key, value] of Object.entries(state.filters)) {
    const def = defaults[key]
    if (Array.isArray(value)) {
      if (value.length && JSON.stringify(value) !== JSON.stringify(def)) out[key] = [...value]
    } else if (typeof value === 'boolean') {
      if (value !== def) out[key] = value ? '1' : '0'
    } else if (value !== '' && value !== def) {
      out[key] = value
    }
  }
  if (state.page > 1) out.page = String(state.page)
  if (state.pageSize !== DEFAULT_PAGE_SIZE) out.page_size = String(state.pageSize)
  return out
}

/** The API's query parameters for a state: empty filters dropped, flags as true/false. */
export function apiQuery<F extends Filters>(state: TableState<F>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = { page: state.page, page_size: state.pageSize }
  for (const [key, value] of Object.entries(state.filters)) {
    if (Array.isArray(value)) {
      if (value.length) out[key] = value.join(',')
    } else if (typeof value === 'boolean') {
      if (value) out[key] = true
    } else if (value !== '') {
      out[key] = value
    }
  }
  return out
}

/** Two queries name the same state (order of keys aside). */
export function sameQuery(a: Query, b: Query): boolean {
  const norm = (q: Query) =>
    JSON.stringify(
      Object.keys(q)
        .filter((k) => q[k] !== undefined)
        .sort()
        .map((k) => [k, q[k]]),
    )
  return norm(a) === norm(b)
}
