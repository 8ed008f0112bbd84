// A report's filters in the URL (bookmarkable, shareable; back/forward walk through them), read
// and written by the pure core/tableQuery.ts. `applied` is what the report shows; `draft` is the
// filter form; `apply()` puts the draft into the URL, and every URL change reloads the report.
import { computed, reactive, watch, type ComputedRef } from 'vue'
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
  watch(
    applied,
    (f, before) => {
      if (route.name !== own) return
      if (before && JSON.stringify(f) === JSON.stringify(before)) return
      Object.assign(draft, f)
      onChange(f)
    },
    { immediate: true },
  )
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
