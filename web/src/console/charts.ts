// ECharts for the console's reports, with only the chart types they draw (line, bar, pie) and the
// canvas renderer. Loaded on demand by components/EChart.vue when a report's data has arrived:
// the console entry never carries it, and no chart call happens before there is data.
import { init, use, type EChartsType } from 'echarts/core'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([LineChart, BarChart, PieChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, CanvasRenderer])

export type { EChartsCoreOption, EChartsType } from 'echarts/core'

export function createChart(dom: HTMLElement, locale: 'zh-CN' | 'en'): EChartsType {
  return init(dom, undefined, { renderer: 'canvas', locale: locale === 'en' ? 'EN' : 'ZH' })
}
