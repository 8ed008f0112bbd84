// Visit statuses (SPEC §5) with their badge colours; the labels are in locales/*/visits.json.
export const VISIT_STATUSES = [
  'pending_check_in',
  'pending_check_out',
  'pending_notes',
  'completed',
  'valid',
  'invalid',
  'expired',
  'cancelled',
] as const

export type VisitStatus = (typeof VISIT_STATUSES)[number]

export type BadgeType = 'primary' | 'success' | 'warning' | 'danger' | 'default'

const BADGES: Record<VisitStatus, BadgeType> = {
  pending_check_in: 'primary',
  pending_check_out: 'warning',
  pending_notes: 'warning',
  completed: 'success',
  valid: 'success',
  invalid: 'danger',
  expired: 'default',
  cancelled: 'default',
}

export function badgeOf(status: string): BadgeType {
  return BADGES[status as VisitStatus] ?? 'default'
}

/** What the visit page offers next. */
export function nextAction(status: string): 'check_in' | 'check_out' | 'notes' | null {
  if (status === 'pending_check_in') return 'check_in'
  if (status === 'pending_check_out') return 'check_out'
  if (status === 'pending_notes') return 'notes'
  return null
}

export function stayText(minutes: number | null | undefined, units = { h: 'h', min: 'min' }): string {
  if (minutes == null || !Number.isFinite(minutes)) return '—'
  const h = Math.floor(minutes / 60)
  const m = Math.round(minutes % 60)
  return h ? `${h} ${units.h} ${m} ${units.min}` : `${m} ${units.min}`
}
