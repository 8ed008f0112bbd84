import { describe, expect, it } from 'vitest'
import { ERROR_MESSAGES, STATUS_MESSAGES, errorMessage } from '@/core/errors'
import zh from '@/locales/zh-CN/auth.json'

describe('the error table', () => {
  it('has every message in both languages', () => {
    for (const [code, entry] of [...Object.entries(ERROR_MESSAGES), ...Object.entries(STATUS_MESSAGES)]) {
      expect(entry['zh-CN'], code).toMatch(/\S/)
      expect(entry.en, code).toMatch(/\S/)
      const zhSlots = entry['zh-CN'].match(/\{\w+\}/g)?.sort()
      const enSlots = entry.en.match(/\{\w+\}/g)?.sort()
      expect(zhSlots, code).toEqual(enSlots)
    }
  })
  it('says each login refusal in plain Chinese, with its numbers', () => {
    const reasons = ['login.unknown_account', 'login.not_joined', 'login.left', 'login.disabled', 'login.wrong_password', 'login.locked', 'auth.rate_limited']
    const texts = reasons.map((code) => errorMessage({ code, details: { remaining_attempts: 3, retry_after: 42 } }, 401, 'zh-CN'))
    expect(new Set(texts).size).toBe(reasons.length)
    expect(texts[4]).toBe('密码错误，还可以再试 3 次')
    expect(texts[6]).toContain('42 秒')
    for (const text of texts) expect(text).toMatch(/[\u4e00-\u9fff]/)
    expect(zh.login).toBe('登录')
  })
  it('fills details and shows times locally', () => {
    const msg = errorMessage({ code: 'pool.capacity_full', details: { held: 300, capacity: 300 } }, 422, 'zh-CN')
    expect(msg).toBe('私海已满：已持有 300 个，上限 300 个，请先放弃部分客户')
    const locked = errorMessage({ code: 'login.locked', details: { locked_until: '2026-03-02T08:15:00+00:00' } }, 401, 'en')
    expect(locked).toMatch(/locked until \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
    expect(errorMessage({ code: 'contact.duplicate_mobile', details: { holder: { owner_name: '刘销售' } } }, 409, 'zh-CN')).toContain('刘销售')
  })
  it('falls back to the status, then to the server text', () => {
    expect(errorMessage({ code: 'something.new' }, 404, 'zh-CN')).toBe(STATUS_MESSAGES[404]['zh-CN'])
    expect(errorMessage({ code: 'something.new' }, 502, 'en')).toBe(STATUS_MESSAGES[500].en)
    expect(errorMessage({ code: 'x', message: 'raw text' }, 418, 'en')).toBe('raw text')
    expect(errorMessage({ code: 'missing.value', details: {} }, 400, 'en')).toBe(STATUS_MESSAGES[400].en)
  })
})
