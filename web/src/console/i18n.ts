// The console's messages: one file per area in src/locales/<lang>/console/<area>.json, found by
// name (a new area needs no change here) and merged into the one i18n set under
// `console.<area>` — only by the console's entry, so the mobile bundle does not carry them.
import { i18n } from '@/i18n'
import type { Locale } from '@/core/errors'

type Tree = Record<string, unknown>

const files = import.meta.glob<Tree>('../locales/*/console/*.json', { eager: true, import: 'default' })

function collect(): Record<Locale, { console: Record<string, Tree> }> {
  const out: Record<Locale, { console: Record<string, Tree> }> = { 'zh-CN': { console: {} }, en: { console: {} } }
  for (const [path, tree] of Object.entries(files)) {
    const m = /locales\/([^/]+)\/console\/([\w-]+)\.json$/.exec(path)
    if (!m) continue
    const lang = m[1] as Locale
    if (!(lang in out)) continue
    out[lang].console[m[2].replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = tree
  }
  return out
}

export const consoleMessages = collect()

export function installConsoleMessages(): void {
  for (const lang of Object.keys(consoleMessages) as Locale[]) {
    i18n.global.mergeLocaleMessage(lang, consoleMessages[lang])
  }
}
