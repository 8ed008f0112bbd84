import { api, ApiError, call, setAccessToken, SESSION_HEADER, refreshAccessToken } from './client'
import { NetworkError } from '@/core/retry'
import type { Department, DeparturePreview, Invitation, Page } from './types'
import type { components } from './schema'

export type Employee = components['schemas']['Employee'] & {
  id: string
  name: string
  roles: string[]
  tenant?: { id: string; code: string; name: string }
  menus?: { customer_visits?: boolean }
  managed_dept_ids?: string[]
}

export interface LoginInput {
  tenant_code: string
  mobile: string
  password: string
  bind_device: boolean
}

/** Log in; in cookie mode the gateway keeps the device token in its HttpOnly cookie. */
export async function login(input: LoginInput): Promise<{ bound: boolean }> {
  let r: Response
  try {
    r = await fetch('/api/v1/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...SESSION_HEADER },
      body: JSON.stringify(input),
    })
  } catch {
    throw new NetworkError()
  }
  const body = await r.json().catch(() => null)
  if (!r.ok) throw new ApiError(r.status, body?.error ?? { code: `http_${r.status}` })
  setAccessToken(body.access_token, body.expires_in, !!body.device_bound)
  return { bound: !!body.device_bound }
}

/** Reopen: a bound device gets an access token from its cookie, without a password. */
export const resume = refreshAccessToken

export async function logout(): Promise<void> {
  try {
    await call('post', '/api/v1/auth/logout', { retry: { attempts: 1, delayMs: () => 0 } })
  } finally {
    setAccessToken(null, undefined, false)
  }
}

export const me = () => api.get<'/api/v1/me', Employee>('/api/v1/me') as Promise<Employee>

export const departments = () =>
  api.get<'/api/v1/departments', { items: Department[] }>('/api/v1/departments') as Promise<{ items: Department[] }>

// -- the console: organisation ------------------------------------------------------------------

export interface EmployeeQuery {
  q?: string
  role?: string
  dept_id?: string
  status?: string
  page?: number
  page_size?: number
}

export interface EmployeeInput {
  name: string
  mobile: string
  email?: string
  roles: string[]
  dept_ids: string[]
  primary_dept_id?: string
  invite?: boolean
}

export const searchEmployees = (query: EmployeeQuery, signal?: AbortSignal) =>
  api.get<'/api/v1/employees', Page<Employee>>('/api/v1/employees', { query: { page: 1, page_size: 20, ...query }, signal }) as Promise<Page<Employee>>

/** Every employee of the tenant (names for ids; pickers). */
export const allEmployees = (query: { role?: string; dept_id?: string; status?: string } = {}) =>
  api.get<'/api/v1/employees', { items: Employee[] }>('/api/v1/employees', { query }) as Promise<{ items: Employee[] }>

export const createEmployee = (body: EmployeeInput) =>
  api.post<'/api/v1/employees', Employee & { invitation?: Invitation }>('/api/v1/employees', { body: { ...body } }) as Promise<
    Employee & { invitation?: Invitation }
  >

export const updateEmployee = (id: string, body: Partial<EmployeeInput>) =>
  api.patch<'/api/v1/employees/{id}', Employee>('/api/v1/employees/{id}', { params: { id }, body: { ...body } }) as Promise<Employee>

export const disableEmployee = (id: string) =>
  api.post<'/api/v1/employees/{id}/disable', Employee>('/api/v1/employees/{id}/disable', { params: { id } }) as Promise<Employee>

export const enableEmployee = (id: string) =>
  api.post<'/api/v1/employees/{id}/enable', Employee>('/api/v1/employees/{id}/enable', { params: { id } }) as Promise<Employee>

export const deleteEmployee = (id: string) =>
  api.delete<'/api/v1/employees/{id}', Employee & { handover_to?: string | null }>('/api/v1/employees/{id}', { params: { id } }) as Promise<
    Employee & { handover_to?: string | null }
  >

export const departurePreview = (id: string) =>
  api.get<'/api/v1/employees/{id}/departure-preview', DeparturePreview>('/api/v1/employees/{id}/departure-preview', {
    params: { id },
  }) as Promise<DeparturePreview>

export const inviteEmployee = (id: string, mobile: string) =>
  api.post<'/api/v1/employees/{id}/invitation', Invitation>('/api/v1/employees/{id}/invitation', {
    params: { id },
    body: { mobile },
  }) as Promise<Invitation>

export const createDepartment = (body: { name: string; parent_id: string; manager_id?: string | null }) =>
  api.post<'/api/v1/departments', Department>('/api/v1/departments', { body: { ...body } }) as Promise<Department>

export const updateDepartment = (id: string, body: { name?: string; parent_id?: string; manager_id?: string | null }) =>
  api.patch<'/api/v1/departments/{id}', Department>('/api/v1/departments/{id}', { params: { id }, body: { ...body } }) as Promise<Department>

export const deleteDepartment = (id: string) => api.delete('/api/v1/departments/{id}', { params: { id } })

export const departmentTree = () =>
  api.get<'/api/v1/departments', { items: Department[]; tree: Department[] }>('/api/v1/departments') as Promise<{
    items: Department[]
    tree: Department[]
  }>

export const menuPermissions = () =>
  api.get<'/api/v1/menu-permissions', { grants: { customer_visits?: string[] } }>('/api/v1/menu-permissions') as Promise<{
    grants: { customer_visits?: string[] }
  }>

export const setMenuPermissions = (grants: { customer_visits: string[] }) =>
  api.put('/api/v1/menu-permissions', { body: { grants } }) as Promise<{ grants: { customer_visits?: string[] } }>

/** Accept an invitation (public: the link's token is the proof) and set the password. */
export const acceptInvitation = (id: string, token: string, password: string) =>
  api.post<'/api/v1/invitations/{id}/accept', { employee_id: string; status: string; tenant_code: string; mobile: string }>(
    '/api/v1/invitations/{id}/accept',
    { params: { id }, body: { token, password }, retry: { attempts: 1, delayMs: () => 0 } },
  ) as Promise<{ employee_id: string; status: string; tenant_code: string; mobile: string }>
