import { api } from './client'
import type { Notification } from './types'

export const notifications = (query: { cursor?: string; limit?: number; unread?: boolean } = {}) =>
  api.get<'/api/v1/notifications', { items: Notification[]; next_cursor: string | null }>('/api/v1/notifications', {
    query,
  }) as Promise<{ items: Notification[]; next_cursor: string | null }>

export const unreadCount = () =>
  api.get<'/api/v1/notifications/unread-count', { unread: number }>('/api/v1/notifications/unread-count') as Promise<{
    unread: number
  }>

export const markRead = (id: string) =>
  api.post<'/api/v1/notifications/{id}/read', Notification>('/api/v1/notifications/{id}/read', { params: { id } })

export const markAllRead = () => api.post<'/api/v1/notifications/read-all', { marked: number }>('/api/v1/notifications/read-all')

// -- the console (issue 15): preferences and the tenant admin's channels ------------------------
export type Channel = 'inbox' | 'email' | 'webhook'
export interface Preferences {
  channels: Record<string, Channel[]>
  fixed: Record<string, Channel[]>
}
export interface Webhook {
  id: string
  url: string
  name: string
  kinds: string[]
  active: boolean
  created_at: string
  /** only in the answer that created it */
  secret?: string
}
export interface Attempt {
  attempt: number
  generation: number
  at: string
  channel: string
  outcome: 'ok' | 'failed'
  latency_ms: number
  error: string | null
}
export interface Delivery {
  id: string
  event_id: string
  kind: string
  channel: 'email' | 'webhook'
  recipient: string
  status: 'pending' | 'sent' | 'dead'
  attempts: number
  generation: number
  last_error: string | null
  dead_reason: string | null
  created_at: string
  next_at: string | null
  sent_at: string | null
  target: { webhook_id?: string; email?: string }
  title?: string
  attempt_log?: Attempt[]
}
export interface NotifySettings {
  smtp: { host: string; port: number; username?: string; from_addr: string; tls: 'none' | 'starttls' | 'ssl'; password_set?: boolean } | null
  retry_base_seconds?: number
  retry_cap_seconds?: number
  max_attempts?: number
  timezone?: string
  digest_hour?: number
  language?: 'zh-CN' | 'en'
  allow_private_webhooks?: boolean
  [k: string]: unknown
}

export const preferences = () => api.get('/api/v1/notifications/preferences') as Promise<Preferences>

export const setPreferences = (channels: Record<string, Channel[]>) =>
  api.put('/api/v1/notifications/preferences', { body: { channels } as never }) as Promise<Preferences>

export const notifySettings = () => api.get('/api/v1/notify/settings') as Promise<NotifySettings>

export const updateNotifySettings = (changes: Record<string, unknown>) =>
  api.put('/api/v1/notify/settings', { body: changes as never }) as Promise<NotifySettings>

export const webhooks = () => api.get('/api/v1/notify/webhooks') as Promise<Webhook[]>

export const createWebhook = (body: { url: string; name?: string; kinds?: string[] }) =>
  api.post('/api/v1/notify/webhooks', { body }) as Promise<Webhook>

export const updateWebhook = (id: string, body: { active?: boolean; name?: string; kinds?: string[] }) =>
  api.patch('/api/v1/notify/webhooks/{id}', { params: { id }, body: body as never }) as Promise<Webhook>

export const deleteWebhook = (id: string) => api.delete('/api/v1/notify/webhooks/{id}', { params: { id } })

export const testWebhook = (id: string) =>
  api.post('/api/v1/notify/webhooks/{id}/test', { params: { id } }) as Promise<Delivery>

export const deliveries = (query: { status?: string; event_id?: string; limit?: number }, signal?: AbortSignal) =>
  api.get('/api/v1/notify/deliveries', { query, signal }) as Promise<Delivery[]>

export const delivery = (id: string) => api.get('/api/v1/notify/deliveries/{id}', { params: { id } }) as Promise<Delivery>

export const deadLetters = (limit = 100, signal?: AbortSignal) =>
  api.get('/api/v1/notify/dead-letters', { query: { limit }, signal }) as Promise<Delivery[]>

export const resend = (id: string) =>
  api.post('/api/v1/notify/dead-letters/{id}/resend', { params: { id } }) as Promise<Delivery>
