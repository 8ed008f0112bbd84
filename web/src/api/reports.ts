// The visit reports (served by the visits service, SPEC §6): one function per call. The shapes
// are those of services/visits/REPORTS.md.
import { api } from './client'

export interface ReportFilters {
  from?: string
  to?: string
  dept_id?: string
  employee_id?: string
  validated_only?: boolean
  trend?: 'months' | 'weeks'
  since?: string
  group_by?: 'person' | 'dept'
  visit_count?: number
  limit?: number
  offset?: number
}

export interface SeriesPoint {
  day: string
  actual: number
  planned: number
  actual_per_person: number
  planned_per_person: number
  company_average: number
}
export interface PersonFigures {
  employee_id: string
  name: string
  planned: number
  actual: number
  completion_rate: number | null
  actual_per_day: number
}
export interface RankRow {
  rank: number
  employee_id: string
  name: string
  actual: number
  planned: number
  completion_rate: number | null
}
export interface DetailRow {
  visit_id: string
  day: string
  employee_id: string
  employee_name: string
  customer_id: string
  customer_name: string
  address: string
  status: string
  check_in_at: string | null
  check_out_at: string | null
  stay_minutes: number | null
  check_in_deviation_m: number | null
  check_out_deviation_m: number | null
  location_source: string | null
}
export interface EmployeeSummary {
  days: string[]
  time_zone: string
  validated_only: boolean
  series: SeriesPoint[]
  people: PersonFigures[]
  ranking: RankRow[]
  totals: { actual: number; planned: number; people: number; person_days: number; company_actual: number; company_field_staff: number }
  trend: { kind: 'months' | 'weeks'; periods: { period: string; actual: number; planned: number }[] }
  details: { total: number; items: DetailRow[] }
}
export interface CustomerSummary {
  days: string[]
  customers: number
  visits: number
  frequency: { visits: number; customers: number }[]
  grades: { grade: string; customers: number; visits: number; average: number }[]
  table: {
    group_by: 'person' | 'dept'
    grades: string[]
    rows: { key: string; label: string; by_grade: Record<string, number>; total: number }[]
    totals: { key: string; label: string; by_grade: Record<string, number>; total: number }
  }
  customer_list?: { visits: number; total: number; items: { customer_id: string; name: string; owner_id: string | null; grade: string; visits: number }[] }
}
export interface Coverage {
  since: string
  today: string
  days: string[]
  customers: number
  not_visited_count: number
  not_visited: { customer_id: string; name: string; owner_id: string | null; grade: string }[]
  cadence: { grade: string; target_per_30_days: number; expected_per_customer: number; customers: number; visits: number; actual_per_customer: number; customers_on_target: number }[]
}
export interface Targets {
  days: string[]
  targets: Record<string, number>
  items: { employee_id: string; name: string; day: string; rows: { metric: string; target: number | null; actual: number }[] }[]
}
export interface ExportJob {
  export_id: string
  status: 'queued' | 'running' | 'done' | 'failed'
  progress: number
  download_url?: string
  filename?: string
  error?: string | null
}

type Q = Record<string, string | number | boolean | undefined>
const q = (f: ReportFilters): Q => ({ ...f, validated_only: f.validated_only ? true : undefined })

export const employeeVisits = (f: ReportFilters, signal?: AbortSignal) =>
  api.get('/api/v1/reports/employee-visits', { query: q(f), signal }) as unknown as Promise<EmployeeSummary>

export const customerVisits = (f: ReportFilters, signal?: AbortSignal) =>
  api.get('/api/v1/reports/customer-visits', { query: q(f), signal }) as unknown as Promise<CustomerSummary>

export const coverage = (f: ReportFilters, signal?: AbortSignal) =>
  api.get('/api/v1/reports/coverage', { query: q(f), signal }) as Promise<Coverage>

export const targets = (f: ReportFilters, signal?: AbortSignal) =>
  api.get('/api/v1/reports/targets', { query: q(f), signal }) as Promise<Targets>

export const startExport = (f: ReportFilters) =>
  api.post('/api/v1/reports/employee-visits/export', { body: q(f) }) as Promise<ExportJob>

export const exportStatus = (exportId: string) =>
  api.get('/api/v1/reports/employee-visits/export', { query: { export_id: exportId } }) as Promise<ExportJob>

export const reportSettings = () => api.get('/api/v1/reports/settings') as Promise<{ cadence: Record<string, number> }>

export const updateReportSettings = (cadence: Record<string, number>) =>
  api.patch('/api/v1/reports/settings', { body: { cadence } }) as Promise<{ cadence: Record<string, number> }>
