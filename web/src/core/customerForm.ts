// The customer entry form's pure rules (SPEC §3): required fields and the numbers that the
// duplicate check (撞单) must see, and what a duplicate answer means for the form.
import type { DuplicateResult, Holder } from '@/api/types'

export interface EntryForm {
  name: string
  address: string
  landlines: string
  faxes: string
  mobiles: string
}

/** "0512-1234, 0512-5678" -> two numbers (comma, 、, ；, whitespace-separated lists) */
export function splitNumbers(text: string): string[] {
  return text
    .split(/[,，、;；\n]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

export function allNumbers(form: EntryForm): string[] {
  return [...splitNumbers(form.landlines), ...splitNumbers(form.faxes), ...splitNumbers(form.mobiles)]
}

export type EntryProblem = 'name' | 'address' | 'phone'

export function missing(form: EntryForm): EntryProblem[] {
  const out: EntryProblem[] = []
  if (!form.name.trim()) out.push('name')
  if (!form.address.trim()) out.push('address')
  if (allNumbers(form).length === 0) out.push('phone')
  return out
}

/** Only worth asking once there is a name of two characters or a number of five digits. */
export function checkable(form: EntryForm): boolean {
  return form.name.trim().length >= 2 || allNumbers(form).some((n) => n.replace(/\D/g, '').length >= 5)
}

export function canSubmit(form: EntryForm, check: DuplicateResult | null, checking: boolean): boolean {
  return missing(form).length === 0 && !checking && check !== null && !check.duplicate
}

export type HolderKind = 'owner' | 'public_pool' | 'unowned'

export function holderKind(holder: Holder): HolderKind {
  return holder.type
}
