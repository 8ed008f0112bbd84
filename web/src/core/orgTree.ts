// The department tree in the shapes the console's pickers need. Pure.
import type { Department } from '@/api/types'

export interface DeptNode {
  value: string
  label: string
  children?: DeptNode[]
}

/** Nested nodes for el-tree-select, siblings by name; a parent that is missing makes a root. */
export function deptTree(depts: readonly Department[]): DeptNode[] {
  const ids = new Set(depts.map((d) => d.id))
  const kids = new Map<string | null, Department[]>()
  for (const d of depts) {
    const parent = d.parent_id && ids.has(d.parent_id) ? d.parent_id : null
    kids.set(parent, [...(kids.get(parent) ?? []), d])
  }
  const build = (parent: string | null, seen: Set<string>): DeptNode[] =>
    (kids.get(parent) ?? [])
      .filter((d) => !seen.has(d.id))
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
      .map((d) => {
        const below = build(d.id, new Set([...seen, d.id]))
        return below.length ? { value: d.id, label: d.name, children: below } : { value: d.id, label: d.name }
      })
  return build(null, new Set())
}

/** The departments themselves and every one below them. */
export function subtreeOf(roots: readonly string[], depts: readonly Department[]): Set<string> {
  const out = new Set(roots)
  let grew = true
  while (grew) {
    grew = false
    for (const d of depts) {
      if (d.parent_id && out.has(d.parent_id) && !out.has(d.id)) {
        out.add(d.id)
        grew = true
      }
    }
  }
  return out
}
