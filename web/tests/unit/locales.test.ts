import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { messages } from '@/i18n'
import { consoleMessages } from '@/console/i18n'

function leaves(obj: unknown, prefix = ''): [string, string][] {
  if (typeof obj === 'string') return [[prefix, obj]]
  if (obj && typeof obj === 'object') return Object.entries(obj).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
  return []
}

function keys(obj: unknown, prefix = ''): string[] {
  if (Array.isArray(obj)) return [`${prefix}[${obj.length}]`]
  if (obj && typeof obj === 'object') return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
  return [prefix]
}

describe('i18n', () => {
  it('en is complete: the same keys as zh-CN in every area', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })
  it("en is complete in the console's areas too", () => {
    expect(Object.keys(consoleMessages['zh-CN'].console).length).toBeGreaterThan(0)
    expect(keys(consoleMessages.en).sort()).toEqual(keys(consoleMessages['zh-CN']).sort())
  })
  it('no message is empty', () => {
    for (const lang of [messages.en, messages['zh-CN'], consoleMessages.en, consoleMessages['zh-CN']]) {
      const flat = JSON.stringify(lang)
      expect(flat).not.toMatch(/:""/)
    }
  })
  it('every message compiles (a bare @, {, } or | is message syntax: write {\'@\'})', () => {
    for (const [locale, all] of [['en', { ...messages.en, ...consoleMessages.en }], ['zh-CN', { ...messages['zh-CN'], ...consoleMessages['zh-CN'] }]] as const) {
      const errors: string[] = []
      const i18n = createI18n({ legacy: false, locale, messages: { [locale]: all }, missingWarn: false, fallbackWarn: false, warnHtmlMessage: false })
      for (const [key, text] of leaves(all)) {
        try {
          i18n.global.t(key, { n: 1, name: 'x', file: 'f', kb: '1' })
        } catch (err) {
          errors.push(`${locale} ${key}: ${text} (${(err as Error).message})`)
        }
      }
      expect(errors).toEqual([])
    }
  })
})
