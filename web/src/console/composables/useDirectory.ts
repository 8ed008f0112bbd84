// The organisation as the console's pickers and tables need it: every employee and department of
// the tenant, read once per page load (identity answers them to every role), with names by id,
// department subtrees and the people a manager may assign work to. The API still decides:
// a picker only spares people choices the API would refuse.
import { computed, ref, type ComputedRef, type Ref } from 'vue'
import { api } from '@/api/client'
import { departments as listDepartments } from '@/api/identity'
import type { Department } from '@/api/types'
import type { Me } from '@/core/access'
import { subtreeOf, type DeptNode, deptTree } from '@/core/orgTree'

export interface Person {
  id: string
  name: string
  roles: string[]
  dept_ids: string[]
  primary_dept_id?: string | null
  status?: string
}

const people = ref<Person[]>([])
const depts = ref<Department[]>([])
let loading: Promise<void> | null = null

function load(): Promise<void> {
  loading ??= (async () => {
    const [emps, ds] = await Promise.all([
      api.get('/api/v1/employees') as Promise<{ items: Person[] }>,
      listDepartments(),
    ])
    people.value = (emps.items ?? []).filter((e) => e.status !== 'left' && e.status !== 'deleted')
    depts.value = ds.items ?? []
  })().catch((err) => {
    loading = null
    throw err
  })
  return loading
}

export interface Directory {
  ready: Promise<void>
  people: Ref<Person[]>
  departments: Ref<Department[]>
  tree: ComputedRef<DeptNode[]>
  nameOf: (id: string | null | undefined) => string
  deptName: (id: string | null | undefined) => string
  /** field staff: everyone but pure sales support */
  fieldStaff: ComputedRef<Person[]>
  /** people the signed-in person may give visit tasks and routes to (and themselves first) */
  assignable: (me: Me & { managed_dept_ids?: string[] }) => Person[]
}

export function useDirectory(): Directory {
  const ready = load()
  const byId = computed(() => new Map(people.value.map((p) => [p.id, p])))
  const deptById = computed(() => new Map(depts.value.map((d) => [d.id, d])))
  return {
    ready,
    people,
    departments: depts,
    tree: computed(() => deptTree(depts.value)),
    nameOf: (id) => (id ? (byId.value.get(id)?.name ?? id) : '—'),
    deptName: (id) => (id ? (deptById.value.get(id)?.name ?? id) : '—'),
    fieldStaff: computed(() => people.value.filter((p) => p.roles.some((r) => r !== 'support'))),
    assignable(me) {
      const field = people.value.filter((p) => p.roles.some((r) => r !== 'support'))
      if (me.roles.includes('tenant_admin')) return field
      const managed = subtreeOf(me.managed_dept_ids ?? [], depts.value)
      const team = field.filter((p) => p.id !== me.id && p.dept_ids.some((d) => managed.has(d)))
      const self = field.filter((p) => p.id === me.id)
      return [...self, ...team]
    },
  }
}
