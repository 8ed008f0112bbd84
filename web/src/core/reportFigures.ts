// The reports' figures as the console draws them: ECharts options built from the report API's
// answers (services/visits/REPORTS.md) without changing a number, the chart's text for screen
// readers from the very arrays the series draw, and the location-tolerance marks of the details.
// Pure: no ECharts import here (the option is plain data).

/** seed 002's colours: actual green, planned pink, company average blue */
export const SERIES_COLOURS = { actual: '#52c41a', planned: '#f759ab', average: '#1677ff' } as const

export interface Described {
  name: string
  points: [string, number][]
}

/** "title. series: label value, label value; series: …." — what the chart shows, in words. */
export function describe(title: string, series: Described[], sep = { item: '，', series: '；', end: '。', pair: ' ' }): string {
  const parts = series.map((s) => `${s.name}：${s.points.map(([k, v]) => `${k}${sep.pair}${v}`).join(sep.item)}`)
  return `${title}${sep.end}${parts.join(sep.series)}${sep.end}`
}

function aria(title: string, series: Described[]) {
  return { enabled: true, label: { enabled: true, description: describe(title, series) } }
}

export interface SeriesPointLike {
  day: string
  actual_per_person: number
  planned_per_person: number
  company_average: number
}

export interface EmployeeChartTexts {
  title: string
  actual: string
  planned: string
  average: string
  axis: string
}

/** The three series of the employee visit summary (per person per day, and the company average). */
export function employeeChartOption(series: readonly SeriesPointLike[], tx: EmployeeChartTexts) {
  const days = series.map((p) => p.day)
  const lines: { key: keyof typeof SERIES_COLOURS; name: string; values: number[] }[] = [
    { key: 'actual', name: tx.actual, values: series.map((p) => p.actual_per_person) },
    { key: 'planned', name: tx.planned, values: series.map((p) => p.planned_per_person) },
    { key: 'average', name: tx.average, values: series.map((p) => p.company_average) },
  ]
  return {
    aria: aria(tx.title, lines.map((l) => ({ name: l.name, points: l.values.map((v, i): [string, number] => [days[i], v]) }))),
    color: lines.map((l) => SERIES_COLOURS[l.key]),
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { top: 0, data: lines.map((l) => l.name) },
    grid: { left: 48, right: 24, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: days, boundaryGap: false },
    yAxis: { type: 'value', name: tx.axis, minInterval: 0.5 },
    series: lines.map((l) => ({
      name: l.name,
      type: 'line',
      smooth: false,
      symbolSize: 7,
      data: l.values,
      itemStyle: { color: SERIES_COLOURS[l.key] },
      lineStyle: { color: SERIES_COLOURS[l.key], width: 2, type: l.key === 'average' ? 'dashed' : 'solid' },
    })),
  }
}

export interface PeriodLike {
  period: string
  actual: number
  planned: number
}

/** The 12-month / 12-week trend: planned and actual visits per period. */
export function trendChartOption(periods: readonly PeriodLike[], tx: { title: string; actual: string; planned: string }) {
  const names = periods.map((p) => p.period)
  const bars = [
    { name: tx.planned, colour: SERIES_COLOURS.planned, values: periods.map((p) => p.planned) },
    { name: tx.actual, colour: SERIES_COLOURS.actual, values: periods.map((p) => p.actual) },
  ]
  return {
    aria: aria(tx.title, bars.map((b) => ({ name: b.name, points: b.values.map((v, i): [string, number] => [names[i], v]) }))),
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { top: 0, data: bars.map((b) => b.name) },
    grid: { left: 48, right: 24, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: names },
    yAxis: { type: 'value', minInterval: 1 },
    series: bars.map((b) => ({ name: b.name, type: 'bar', data: b.values, itemStyle: { color: b.colour } })),
  }
}

/** How many customers were visited 0, 1, 2, … times: one slice per count (empty slices left out). */
export function frequencyPieOption(frequency: readonly { visits: number; customers: number }[], tx: { title: string; slice: (n: number) => string }, selected?: number | null) {
  const slices = frequency.filter((f) => f.customers > 0).map((f) => ({ name: tx.slice(f.visits), value: f.customers, visits: f.visits, selected: f.visits === selected }))
  return {
    aria: aria(tx.title, [{ name: tx.title, points: slices.map((s): [string, number] => [s.name, s.value]) }]),
    tooltip: { trigger: 'item', renderMode: 'richText' },
    legend: { orient: 'vertical', left: 0, top: 'middle' },
    series: [{ name: tx.title, type: 'pie', radius: ['35%', '70%'], center: ['60%', '50%'], selectedMode: 'single', data: slices, label: { formatter: '{b}：{c}' } }],
  }
}

/** Average visits per customer of each grade. */
export function gradeBarOption(grades: readonly { grade: string; average: number }[], tx: { title: string; series: string; grade: (g: string) => string }) {
  const names = grades.map((g) => tx.grade(g.grade))
  const values = grades.map((g) => g.average)
  return {
    aria: aria(tx.title, [{ name: tx.series, points: values.map((v, i): [string, number] => [names[i], v]) }]),
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    grid: { left: 48, right: 24, top: 24, bottom: 32 },
    xAxis: { type: 'category', data: names },
    yAxis: { type: 'value' },
    series: [{ name: tx.series, type: 'bar', data: values, itemStyle: { color: SERIES_COLOURS.average }, label: { show: true, position: 'top' } }],
  }
}

/** The slice a pie click names, back to its visit count. */
export function visitsOfSlice(frequency: readonly { visits: number; customers: number }[], dataIndex: number): number | null {
  const slices = frequency.filter((f) => f.customers > 0)
  return slices[dataIndex]?.visits ?? null
}

// -- the details' location tolerance (SPEC §5: GPS 500 m, network/cell 1000 m, tenant settings) -----
export interface Tolerances {
  gps_tolerance_m: number
  network_tolerance_m: number
  cell_tolerance_m: number
}

export const DEFAULT_TOLERANCES: Tolerances = { gps_tolerance_m: 500, network_tolerance_m: 1000, cell_tolerance_m: 1000 }

/** The tolerance of a location source (unknown sources get the network's, as the service does). */
export function toleranceOf(source: string | null | undefined, t: Tolerances = DEFAULT_TOLERANCES): number {
  if (source === 'gps') return t.gps_tolerance_m
  if (source === 'cell') return t.cell_tolerance_m
  return t.network_tolerance_m
}

/** A deviation against its source's tolerance: null when nothing was measured. */
export function deviationMark(deviation: number | null | undefined, source: string | null | undefined, t: Tolerances = DEFAULT_TOLERANCES): { tolerance: number; within: boolean } | null {
  if (deviation === null || deviation === undefined || !Number.isFinite(deviation)) return null
  const tolerance = toleranceOf(source, t)
  return { tolerance, within: deviation <= tolerance }
}

/** A rate (0..1) as a percentage with one decimal, '—' when there is none. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`
}
