import { api, upload } from './client'
import type { components } from './schema'

export type Visit = components['schemas']['Visit'] & { id: string; status: string }
export type VisitCalendar = components['schemas']['Calendar']
export type VisitPlanInput = components['schemas']['PlanIn']

export const calendar = (month: string) =>
  api.get('/api/v1/visits/calendar', { query: { month } }) as Promise<VisitCalendar>

export const myVisits = (query: { day?: string; month?: string; limit?: number }) =>
  api.get('/api/v1/visits', { query }) as Promise<{ total?: number; items?: Visit[] }>

export const getVisit = (id: string) => api.get('/api/v1/visits/{id}', { params: { id } }) as Promise<Visit>

export const planVisit = (body: VisitPlanInput, idempotencyKey?: string) =>
  api.post('/api/v1/visits', { body, idempotencyKey }) as Promise<Visit>

export const settings = () =>
  api.get<'/api/v1/visits/settings', { visit_policy_version?: string; time_zone?: string }>('/api/v1/visits/settings') as Promise<{
    visit_policy_version?: string
    time_zone?: string
    min_stay_minutes?: number
  }>

/** Check-in with the photo (multipart), progress reported; the same key on every attempt. */
export const checkIn = (id: string, fields: Record<string, string>, photo: Blob, filename: string, idempotencyKey: string, onProgress?: (f: number) => void) => {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append('photo', photo, filename)
  return upload<Visit>('/api/v1/visits/{id}/check-in', form, { params: { id }, idempotencyKey, onProgress })
}

export const checkOut = (id: string, body: components['schemas']['PointIn'], idempotencyKey?: string) =>
  api.post('/api/v1/visits/{id}/check-out', { params: { id }, body, idempotencyKey }) as Promise<Visit>

export const writeNotes = (id: string, text: string, idempotencyKey?: string) =>
  api.post('/api/v1/visits/{id}/notes', { params: { id }, body: { text }, idempotencyKey }) as Promise<Visit>

export const photoUrl = (id: string, kind: 'thumbnail' | 'watermarked' | 'original') => `/api/v1/visits/${encodeURIComponent(id)}/photos/${kind}`

// -- the console (issue 15): records, review, settings, tasks, routes ---------------------------
export type VisitPage = { total: number; items: Visit[] }
export type VisitRoute = components['schemas']['Route'] & {
  id: string
  name: string
  employee_id: string
  created_by?: string
  stops: RouteStop[]
  total_distance_m: number | null
}
export interface RouteStop {
  customer_id: string
  name: string
  address?: string
  lat: number | null
  lng: number | null
  kind?: string
}
export interface RouteSuggestion {
  route_id: string
  order: string[]
  stops: RouteStop[]
  distance_before_m: number
  distance_after_m: number
  applied: boolean
}
/** The tenant's visit settings: thresholds and tolerances (rules.DEFAULT_SETTINGS). */
export type VisitSettings = Record<string, number | string | boolean> & {
  time_zone: string
  min_stay_minutes: number
  max_plan_to_checkout_m: number
  max_checkin_to_checkout_m: number
  gps_tolerance_m: number
  network_tolerance_m: number
  cell_tolerance_m: number
  visit_policy_version: string
}
export type ReviewItem = Visit & { approvable: boolean; completed_at?: string; has_photo?: boolean }

type Query = Record<string, string | number | boolean | undefined>

export const records = (query: Query, signal?: AbortSignal) =>
  api.get('/api/v1/visits/records', { query, signal }) as Promise<VisitPage>

export const reviewQueue = (query: { limit: number; offset: number }, signal?: AbortSignal) =>
  api.get('/api/v1/visits/review-queue', { query, signal }) as Promise<{ total: number; items: ReviewItem[] }>

export const review = (id: string, decision: 'approve' | 'reject', reason: string) =>
  api.post('/api/v1/visits/{id}/review', { params: { id }, body: { decision, reason } }) as Promise<Visit>

export const visitSettings = () => api.get('/api/v1/visits/settings') as Promise<VisitSettings>

export const updateVisitSettings = (changes: Partial<VisitSettings>) =>
  api.patch('/api/v1/visits/settings', { body: changes }) as Promise<VisitSettings>

/** A person's month (their own, or a subordinate's for their supervisor). */
export const calendarOf = (month: string, employeeId?: string) =>
  api.get('/api/v1/visits/calendar', { query: { month, employee_id: employeeId } }) as Promise<VisitCalendar>

export const visitsOf = (query: { day?: string; month?: string; employee_id?: string; limit?: number }) =>
  api.get('/api/v1/visits', { query }) as Promise<VisitPage>

export const routes = (employeeId?: string) =>
  api.get('/api/v1/visit-routes', { query: { employee_id: employeeId } }) as Promise<VisitRoute[]>

export const createRoute = (body: { name: string; stops: string[]; employee_id?: string }) =>
  api.post('/api/v1/visit-routes', { body }) as Promise<VisitRoute>

export const updateRoute = (id: string, body: { name?: string; stops?: string[] }) =>
  api.patch('/api/v1/visit-routes/{id}', { params: { id }, body: body as never }) as Promise<VisitRoute>

export const deleteRoute = (id: string) => api.delete('/api/v1/visit-routes/{id}', { params: { id } })

export const shortenRoute = (id: string, apply: boolean) =>
  api.post('/api/v1/visit-routes/{id}/optimise', { params: { id }, body: { apply } }) as Promise<RouteSuggestion>

export const scheduleRoute = (id: string, body: { day: string; start_time: string; interval_minutes: number; policy_accepted: boolean; policy_version?: string; topic?: string }) =>
  api.post('/api/v1/visit-routes/{id}/schedule', { params: { id }, body }) as Promise<{ route_id: string; day: string; visits: Visit[] }>
