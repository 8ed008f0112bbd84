// One way to tell the user what happened: a toast for successes and API errors (the message
// from the error table, core/errors.ts), a confirmation box before anything destructive.
import { ElMessage, ElMessageBox } from 'element-plus'
import { errorText } from '@/core/useErrorText'
import { i18n } from '@/i18n'

export function notifySuccess(text: string): void {
  ElMessage({ type: 'success', message: text, grouping: true, duration: 2500 })
}

export function notifyWarning(text: string): void {
  ElMessage({ type: 'warning', message: text, grouping: true, duration: 3500 })
}

/** An API (or network) error as a toast, in the user's language; the text is returned too. */
export function toastError(err: unknown): string {
  const text = errorText(err)
  ElMessage({ type: 'error', message: text, grouping: true, duration: 5000, showClose: true })
  return text
}

/** A yes/no question; true when confirmed. */
export async function confirmAction(message: string, opts: { title?: string; danger?: boolean; confirm?: string } = {}): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(message, opts.title ?? t('console.shell.form.confirmTitle'), {
      type: opts.danger ? 'warning' : 'info',
      confirmButtonText: opts.confirm ?? t('common.actions.confirm'),
      cancelButtonText: t('common.actions.cancel'),
      confirmButtonClass: opts.danger ? 'el-button--danger' : undefined,
    })
    return true
  } catch {
    return false
  }
}

/** A question with a required text answer (a reason); null when cancelled. */
export async function askReason(message: string, title: string, label: string): Promise<string | null> {
  const t = i18n.global.t
  try {
    const { value } = await ElMessageBox.prompt(message, title, {
      confirmButtonText: t('common.actions.confirm'),
      cancelButtonText: t('common.actions.cancel'),
      inputPlaceholder: label,
      inputValidator: (v: string) => (v && v.trim() ? true : t('console.shell.form.reasonRequired')),
    })
    return String(value).trim()
  } catch {
    return null
  }
}
