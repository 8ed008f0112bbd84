import { describe, expect, it } from 'vitest'
import { badgeOf, nextAction, stayText, VISIT_STATUSES } from '@/core/visitStatus'
import zh from '@/locales/zh-CN/visits.json'
import en from '@/locales/en/visits.json'

describe('visit statuses', () => {
  it('has a label for every status in both languages, the seed words in Chinese', () => {
    for (const s of VISIT_STATUSES) {
      expect(zh.status[s], s).toBeTruthy()
      expect(en.status[s], s).toBeTruthy()
    }
    expect([zh.status.pending_check_in, zh.status.pending_check_out, zh.status.pending_notes, zh.status.completed, zh.status.valid, zh.status.expired])
      .toEqual(['待签到', '待签退', '待记录', '已完成', '有效拜访', '已过期'])
  })
  it('offers the next step of the visit', () => {
    expect(nextAction('pending_check_in')).toBe('check_in')
    expect(nextAction('pending_check_out')).toBe('check_out')
    expect(nextAction('pending_notes')).toBe('notes')
    expect(nextAction('completed')).toBeNull()
    expect(badgeOf('invalid')).toBe('danger')
    expect(badgeOf('unknown')).toBe('default')
  })
  it('shows a stay in hours and minutes', () => {
    expect(stayText(95)).toBe('1 h 35 min')
    expect(stayText(12.4, { h: '小时', min: '分钟' })).toBe('12 分钟')
    expect(stayText(null)).toBe('—')
  })
})
