// Names for ids in the console's tables: the tenant's employees and departments, asked once per
// page load (and again after a change to them). Pickers read the same lists.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { allEmployees, departmentTree, type Employee } from '@/api/identity'
import type { Department } from '@/api/types'

export const useDirectory = defineStore('console-directory', () => {
  const employees = ref<Employee[]>([])
  const departments = ref<Department[]>([])
  const tree = ref<Department[]>([])
  let loading: Promise<void> | null = null
  let loaded = false

  const byId = computed(() => new Map(employees.value.map((e) => [e.id, e])))
  const deptById = computed(() => new Map(departments.value.map((d) => [d.id, d])))
  /** people who can receive customers (joined and not disabled) */
  const active = computed(() => employees.value.filter((e) => e.status === 'joined'))

  async function refresh(): Promise<void> {
    const [emps, depts] = await Promise.all([allEmployees(), departmentTree()])
    employees.value = emps.items
    departments.value = depts.items
    tree.value = depts.tree
    loaded = true
  }

  function load(): Promise<void> {
    if (loaded) return Promise.resolve()
    if (!loading) loading = refresh().finally(() => (loading = null))
    return loading
  }

  function name(id: string | null | undefined): string {
    if (!id) return ''
    return byId.value.get(id)?.name ?? id.slice(0, 8)
  }

  function deptName(id: string | null | undefined): string {
    if (!id) return ''
    return deptById.value.get(id)?.name ?? id.slice(0, 8)
  }

  return { employees, departments, tree, active, byId, deptById, load, refresh, name, deptName }
})
