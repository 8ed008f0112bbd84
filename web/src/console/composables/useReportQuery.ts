// A report's filters in the URL (bookmarkable, shareable; back/forward walk through them), read
// and written by the pure core/tableQuery.ts. `applied` is what the report shows; `draft` is the
// filter form; `apply()` puts the draft into the URL, and every URL change reloads the report.
//
// The first load runs when the view is mounted, never during `useReportQuery()` itself: a view
// writes `const q = useReportQuery(defaults, () => void load())` and its `load` reads `q` (or a
// `computed` declared after it), which does not exist until this function has returned. Calling
// `onChange` synchronously here (a `watch` with `immediate: true`) made every such load throw a
// ReferenceError (the temporal dead zone of `const q`), which the view caught and showed as
// 加载失败 although the API was never even called.
import { computed, onMounted, reactive, watch, type ComputedRef } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { readQuery, writeQuery, type Filters, type Query } from '@/core/tableQuery'

export interface ReportQuery<F extends Filters> {
  draft: F
  applied: ComputedRef<F>
  apply: (over?: Partial<F>) => Promise<void>
  reset: () => Promise<void>
}

export function useReportQuery<F extends Filters>(defaults: F, onChange: (f: F) => void): ReportQuery<F> {
  const route = useRoute()
  const router = useRouter()
  const own = route.name
  const applied = computed(() => readQuery(route.query as Query, defaults).filters)
  const draft = reactive({ ...applied.value }) as F
  watch(applied, (f, before) => {
    if (route.name !== own) return
    if (before && JSON.stringify(f) === JSON.stringify(before)) return
    Object.assign(draft, f)
    onChange(f)
  })
  onMounted(() => onChange(applied.value))
  async function go(filters: F): Promise<void> {
    const query = writeQuery({ filters, page: 1, pageSize: 20 }, defaults, route.query as Query)
    await router.push({ query })
  }
  return {
    draft,
    applied,
    apply: (over = {}) => go({ ...draft, ...over } as F),
    reset: () => go({ ...defaults }),
  }
}
