import { api } from './client'
import type { ClaimRequest, DailyTargets, Page, PoolCustomer, PoolRules, ReclaimRow, ReclaimWarning, RulesPreview } from './types'

export interface PoolQuery {
  keyword?: string
  released_from?: string
  released_to?: string
  previous_owner_dept_id?: string
  grade?: string
  page?: number
  page_size?: number
}

export const searchPool = (query: PoolQuery, signal?: AbortSignal) =>
  api.get<'/api/v1/pool/customers', Page<PoolCustomer>>('/api/v1/pool/customers', { query: { ...query }, signal }) as Promise<
    Page<PoolCustomer>
  >

export const claim = (id: string, idempotencyKey?: string) =>
  api.post<'/api/v1/pool/customers/{id}/claim', PoolCustomer>('/api/v1/pool/customers/{id}/claim', {
    params: { id },
    body: {},
    idempotencyKey,
  }) as Promise<PoolCustomer>

export const release = (id: string, reason: string) =>
  api.post<'/api/v1/customers/{id}/release', unknown>('/api/v1/customers/{id}/release', { params: { id }, body: { reason } })

export interface ClaimRequestInput {
  name: string
  address: string
  landline?: string
  fax?: string
  remarks?: string
  customer_id?: string
}

export const submitClaimRequest = (body: ClaimRequestInput, idempotencyKey?: string) =>
  api.post('/api/v1/pool/claim-requests', { body: { ...body }, idempotencyKey })

export const myClaimRequests = () =>
  api.get<'/api/v1/pool/claim-requests', Page<ClaimRequest>>('/api/v1/pool/claim-requests') as Promise<Page<ClaimRequest>>

export const capacity = () =>
  api.get<'/api/v1/pool/capacity', { held: number; capacity: number; free: number }>('/api/v1/pool/capacity') as Promise<{
    held: number
    capacity: number
    free: number
  }>

// -- the console: pools ---------------------------------------------------------------------------

export const claimQueue = (query: { status?: string; page?: number; page_size?: number }, signal?: AbortSignal) =>
  api.get<'/api/v1/pool/claim-requests', Page<ClaimRequest>>('/api/v1/pool/claim-requests', { query: { ...query }, signal }) as Promise<
    Page<ClaimRequest>
  >

export const approveRequest = (id: string, body: { reason?: string; approved_name?: string }) =>
  api.post<'/api/v1/pool/claim-requests/{id}/approve', ClaimRequest>('/api/v1/pool/claim-requests/{id}/approve', {
    params: { id },
    body: { ...body },
  }) as unknown as Promise<ClaimRequest>

export const rejectRequest = (id: string, reason: string) =>
  api.post<'/api/v1/pool/claim-requests/{id}/reject', ClaimRequest>('/api/v1/pool/claim-requests/{id}/reject', {
    params: { id },
    body: { reason },
  }) as unknown as Promise<ClaimRequest>

export const assign = (id: string, ownerId: string, reason?: string) =>
  api.post<'/api/v1/pool/customers/{id}/assign', PoolCustomer>('/api/v1/pool/customers/{id}/assign', {
    params: { id },
    body: { owner_id: ownerId, reason },
  }) as Promise<PoolCustomer>

export const poolCustomer = (id: string) =>
  api.get<'/api/v1/pool/customers/{id}', PoolCustomer & { reclaim_on?: string | null; reclaim_rule?: string | null }>(
    '/api/v1/pool/customers/{id}',
    { params: { id } },
  ) as Promise<PoolCustomer & { reclaim_on?: string | null; reclaim_rule?: string | null }>

export const rules = () => api.get<'/api/v1/pool/rules', PoolRules>('/api/v1/pool/rules') as Promise<PoolRules>

export const saveRules = (body: Partial<PoolRules>) =>
  api.put<'/api/v1/pool/rules', PoolRules>('/api/v1/pool/rules', { body: { ...body } }) as Promise<PoolRules>

export const previewRules = (body: Partial<PoolRules>, days = 60) =>
  api.post<'/api/v1/pool/rules/preview', RulesPreview>('/api/v1/pool/rules/preview', {
    body: { ...body },
    query: { days },
    retry: { attempts: 1, delayMs: () => 0 },
  }) as Promise<RulesPreview>

export const reclaims = (limit = 200) =>
  api.get<'/api/v1/pool/reclaims', ReclaimRow[]>('/api/v1/pool/reclaims', { query: { limit } }) as Promise<ReclaimRow[]>

export const reclaimWarnings = () =>
  api.get<'/api/v1/pool/reclaim-warnings', ReclaimWarning[]>('/api/v1/pool/reclaim-warnings') as Promise<ReclaimWarning[]>

export const targets = (query: { day?: string; user_id?: string }) =>
  api.get<'/api/v1/pool/targets', DailyTargets>('/api/v1/pool/targets', { query }) as Promise<DailyTargets>

export const runSweep = () => api.post('/api/v1/pool/reclaim/run', { retry: { attempts: 1, delayMs: () => 0 } })
