// A validity criterion (visits service, rules.criteria) as the review screens show it: the
// measured value and the threshold in the reader's words and units, and the verdict. Pure.

export interface CriterionLike {
  name: string
  measured: unknown
  threshold: unknown
  comparison?: string
  unit?: string
  passed: boolean
  pixels?: number | null
  min_pixels?: number
}

export interface CriterionWords {
  units: { chars: string; min: string; m: string; px: string }
  yes: string
  no: string
  notMeasured: string
  photoNeeded: (minPixels: number) => string
}

function num(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return ''
  return String(Math.round(v * 10) / 10)
}

const COMPARE: Record<string, string> = { '>': '>', '>=': '≥', '<': '<', '<=': '≤' }

/** [measured, threshold] as text. */
export function criterionCells(c: CriterionLike, w: CriterionWords): [string, string] {
  if (c.name === 'photo') {
    const has = c.measured === true
    const px = c.pixels ? `（${c.pixels.toLocaleString('en-US')} ${w.units.px}）` : ''
    return [has ? `${w.yes}${px}` : c.pixels ? `${w.no}${px}` : w.no, w.photoNeeded(c.min_pixels ?? 0)]
  }
  if (c.name === 'notes') {
    return [`${num(c.measured) || '0'} ${w.units.chars}`, `> 0 ${w.units.chars}`]
  }
  const unit = c.unit === 'min' ? w.units.min : c.unit === 'm' ? w.units.m : (c.unit ?? '')
  const measured = c.measured === null || c.measured === undefined ? w.notMeasured : `${num(c.measured)} ${unit}`
  const op = COMPARE[c.comparison ?? ''] ?? (c.comparison ?? '')
  return [measured, `${op} ${num(c.threshold)} ${unit}`.trim()]
}

/** The criteria that fail, by name (what an approval would be refused for). */
export function failingNames(criteria: readonly CriterionLike[]): string[] {
  return criteria.filter((c) => !c.passed).map((c) => c.name)
}
