import { api, ApiError, call, setAccessToken, SESSION_HEADER, refreshAccessToken } from './client'
import { NetworkError } from '@/core/retry'
import type { Department } from './types'
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
