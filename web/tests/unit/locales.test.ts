import { describe, expect, it } from 'vitest'
import { messages } from '@/i18n'
import { consoleMessages } from '@/console/i18n'

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
})
