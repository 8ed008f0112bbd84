// The calendar home's month grid (pure): weeks starting on Monday, each cell a day of the
// month or a blank, with the number of the caller's visits that day.

export interface DayCell {
  day: string // YYYY-MM-DD
  date: number
  count: number
  today: boolean
}

export type Week = (DayCell | null)[]

const pad = (n: number) => String(n).padStart(2, '0')

export function monthOf(day: string): string {
  return day.slice(0, 7)
}

export function isMonth(value: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(value)
}

export function shiftMonth(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number)
  const index = y * 12 + (m - 1) + delta
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`
}

export function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number)
  return new Date(Date.UTC(y, m, 0)).getUTCDate()
}

/** Monday = 0 … Sunday = 6 */
export function weekdayOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number)
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7
}

export function monthGrid(month: string, counts: Record<string, number>, today: string): Week[] {
  const weeks: Week[] = []
  let week: Week = new Array(weekdayOf(`${month}-01`)).fill(null)
  for (let date = 1; date <= daysInMonth(month); date += 1) {
    const day = `${month}-${pad(date)}`
    week.push({ day, date, count: counts[day] ?? 0, today: day === today })
    if (week.length === 7) {
      weeks.push(week)
      week = []
    }
  }
  if (week.length) weeks.push([...week, ...new Array(7 - week.length).fill(null)])
  return weeks
}

export function countsByDay(days: { day: string; count: number }[]): Record<string, number> {
  return Object.fromEntries(days.map((d) => [d.day, d.count]))
}

/** A swipe across the grid: left = next month, right = previous; short or vertical moves are none. */
export function swipeDelta(dx: number, dy: number, minPx = 50): -1 | 0 | 1 {
  if (Math.abs(dx) < minPx || Math.abs(dx) < Math.abs(dy) * 1.5) return 0
  return dx < 0 ? 1 : -1
}
