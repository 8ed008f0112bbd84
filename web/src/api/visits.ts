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
