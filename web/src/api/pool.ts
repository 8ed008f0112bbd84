import { api } from './client'
import type { ClaimRequest, Page, PoolCustomer } from './types'

export interface PoolQuery {
  keyword?: string
  released_from?: string
  released_to?: string
  previous_owner_dept_id?: string
  grade?: string
  page?: number
  page_size?: number
}

export const searchPool = (query: PoolQuery) =>
  api.get<'/api/v1/pool/customers', Page<PoolCustomer>>('/api/v1/pool/customers', { query: { ...query } }) as Promise<
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
