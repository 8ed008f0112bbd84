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
