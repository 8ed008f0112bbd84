// A server-paged table whose filters, page and page size live in the URL's query (bookmarkable,
// shareable; back and forward walk through them). The server pages and filters: nothing here
// ever loads "everything". Pure parts in core/tableQuery.ts.
import { computed, reactive, ref, shallowRef, watch, type Ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { apiQuery, readQuery, sameQuery, writeQuery, type Filters, type Query, type TableState } from '@/core/tableQuery'

export interface PageAnswer<T> {
  items: T[]
  total: number
}

export interface ServerTableOptions<T, F extends Filters> {
  /** every filter with its default (its type fixes how the URL is read: text, list or flag) */
  defaults: F
  /** one page from the API; the signal aborts a request that a newer one replaced */
  load: (query: Record<string, string | number | boolean>, state: TableState<F>, signal: AbortSignal) => Promise<PageAnswer<T>>
  /** wait with the first load (e.g. until a select's options are known) */
  immediate?: boolean
  /** a second table on the page: its keys in the URL start with this (e.g. `p_` -> `p_q`, `p_page`) */
  prefix?: string
  /** a table in a dialog: its state stays in memory, not in the URL */
  memory?: boolean
}

export interface ServerTable<T, F extends Filters> {
  rows: Ref<T[]>
  total: Ref<number>
  loading: Ref<boolean>
  error: Ref<unknown>
  /** the filter form's values; apply() puts them into the URL */
  draft: F
  state: Ref<TableState<F>>
  page: Ref<number>
  pageSize: Ref<number>
  apply: () => Promise<void>
  reset: () => Promise<void>
  setFilter: <K extends keyof F>(key: K, value: F[K]) => Promise<void>
  setPage: (page: number) => Promise<void>
  setPageSize: (size: number) => Promise<void>
  reload: () => Promise<void>
}

export function useServerTable<T, F extends Filters>(opts: ServerTableOptions<T, F>): ServerTable<T, F> {
  const route = useRoute()
  const router = useRouter()
  const prefix = opts.prefix ?? ''
  const owned = (key: string) => (prefix ? key.startsWith(prefix) : key in opts.defaults || key === 'page' || key === 'page_size')
  /** this table's part of the URL's query, without the prefix */
  const mine = (q: Query): Query =>
    Object.fromEntries(Object.entries(q).filter(([k]) => (prefix ? k.startsWith(prefix) : true)).map(([k, v]) => [k.slice(prefix.length), v]))
  const rows = shallowRef<T[]>([]) as Ref<T[]>
  const total = ref(0)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const state = ref(opts.memory ? readQuery({}, opts.defaults) : readQuery(mine(route.query as Query), opts.defaults)) as Ref<TableState<F>>
  const draft = reactive({ ...state.value.filters }) as F
  const own = route.name // the watch below ignores the query of a route we are leaving for
  let controller: AbortController | null = null
  let seq = 0

  async function fetchPage(): Promise<void> {
    controller?.abort()
    const ctl = new AbortController()
    controller = ctl
    const n = ++seq
    loading.value = true
    error.value = null
    try {
      const answer = await opts.load(apiQuery(state.value), state.value, ctl.signal)
      if (n !== seq) return
      rows.value = answer.items ?? []
      total.value = answer.total ?? 0
      // a page past the end (rows deleted meanwhile, an old link): go to the last page
      const last = Math.max(1, Math.ceil(total.value / state.value.pageSize))
      if (state.value.page > last && total.value > 0) void go({ ...state.value, page: last }, true)
    } catch (err) {
      if (n !== seq || (err as Error)?.name === 'AbortError') return
      rows.value = []
      total.value = 0
      error.value = err
    } finally {
      if (n === seq) loading.value = false
    }
  }

  async function go(next: TableState<F>, replace = false): Promise<void> {
    if (opts.memory) {
      state.value = next
      Object.assign(draft, next.filters)
      await fetchPage()
      return
    }
    const others = Object.fromEntries(Object.entries(route.query as Query).filter(([k]) => !owned(k)))
    const ours = Object.fromEntries(Object.entries(writeQuery(next, opts.defaults)).map(([k, v]) => [prefix + k, v]))
    const query = { ...others, ...ours }
    if (sameQuery(query, route.query as Query)) {
      await fetchPage() // same URL: the user asked again (e.g. "search" after a change elsewhere)
      return
    }
    await (replace ? router.replace({ query }) : router.push({ query }))
  }

  // the URL is the truth: every change of it (ours, back/forward, a pasted link) reloads
  if (!opts.memory) {
    watch(
      () => route.query,
      (q, old) => {
        if (route.name !== own || (old && sameQuery(q as Query, old as Query))) return
        const next = readQuery(mine(q as Query), opts.defaults)
        const changed = JSON.stringify(next) !== JSON.stringify(state.value)
        state.value = next
        Object.assign(draft, next.filters)
        if (changed) void fetchPage()
      },
    )
  }
  if (opts.immediate !== false) void fetchPage()

  return {
    rows,
    total,
    loading,
    error,
    draft,
    state,
    page: computed(() => state.value.page) as unknown as Ref<number>,
    pageSize: computed(() => state.value.pageSize) as unknown as Ref<number>,
    apply: () => go({ ...state.value, filters: { ...draft }, page: 1 }),
    reset: () => go({ ...state.value, filters: { ...opts.defaults }, page: 1 }),
    setFilter: (key, value) => {
      ;(draft as Filters)[key as string] = value as Filters[string]
      return go({ ...state.value, filters: { ...state.value.filters, [key]: value }, page: 1 })
    },
    setPage: (page) => go({ ...state.value, page }),
    setPageSize: (pageSize) => go({ ...state.value, pageSize, page: 1 }),
    reload: fetchPage,
  }
}
