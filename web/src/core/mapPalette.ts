// Colours of the console's maps: one per employee shown (the CSS classes .c-pin-<n> in
// console.css carry them; the CSP allows no inline style). Pure.
export const PALETTE = ['#1677ff', '#f5222d', '#52c41a', '#fa8c16', '#722ed1', '#13c2c2', '#eb2f96', '#a0d911', '#2f54eb', '#faad14'] as const
export const PALETTE_SIZE = PALETTE.length

/** Each employee's colour index, in the order they were chosen (stable while the choice stands). */
export function colourIndex(employeeIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const id of employeeIds) if (!out.has(id)) out.set(id, out.size % PALETTE_SIZE)
  return out
}
