import { describe, expect, it } from 'vitest'
import { countsByDay, daysInMonth, isMonth, monthGrid, shiftMonth, swipeDelta, weekdayOf } from '@/core/calendar'

describe('month grid', () => {
  it('starts weeks on Monday and counts visits per day', () => {
    // 2026-03-01 is a Sunday
    const weeks = monthGrid('2026-03', countsByDay([{ day: '2026-03-02', count: 3 }]), '2026-03-02')
    expect(weeks[0].slice(0, 6)).toEqual([null, null, null, null, null, null])
    expect(weeks[0][6]?.day).toBe('2026-03-01')
    expect(weeks[1][0]).toEqual({ day: '2026-03-02', date: 2, count: 3, today: true })
    expect(weeks.flat().filter(Boolean)).toHaveLength(31)
    expect(weeks.every((w) => w.length === 7)).toBe(true)
  })
  it('knows month lengths, leap years and weekdays', () => {
    expect(daysInMonth('2028-02')).toBe(29)
    expect(daysInMonth('2026-02')).toBe(28)
    expect(weekdayOf('2026-03-02')).toBe(0)
    expect(weekdayOf('2026-03-01')).toBe(6)
  })
  it('switches months across years', () => {
    expect(shiftMonth('2026-01', -1)).toBe('2025-12')
    expect(shiftMonth('2025-12', 1)).toBe('2026-01')
    expect(shiftMonth('2026-03', 14)).toBe('2027-05')
    expect(isMonth('2026-13')).toBe(false)
    expect(isMonth('2026-03')).toBe(true)
  })
  it('reads a horizontal swipe as a month switch and ignores scrolling', () => {
    expect(swipeDelta(-120, 10)).toBe(1)
    expect(swipeDelta(120, 10)).toBe(-1)
    expect(swipeDelta(30, 0)).toBe(0)
    expect(swipeDelta(80, 200)).toBe(0)
  })
})
