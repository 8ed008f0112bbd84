// The one API client of both shells: a thin fetch wrapper over the types that
// openapi-typescript generates from the gateway's own OpenAPI document (schema.d.ts).
//
// - The access token lives in memory only; the device token ("bind this device") is an
//   HttpOnly cookie the gateway sets and reads (gateway/session.py): this code never sees it.
// - A 401 on a call is answered by one silent refresh from the cookie and one repeat.
// - Every mutating call carries an Idempotency-Key; a network failure (no answer) is retried
//   with the same key (core/retry.ts), so a flaky connection never makes two of anything.
import type { paths } from './schema'
import { NetworkError, newIdempotencyKey, withRetry, type RetryPolicy, FIELD_RETRY } from '@/core/retry'

export const newKey = newIdempotencyKey
import type { ApiErrorBody } from '@/core/errors'

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'
export type PathOf<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, infer Op> ? (Op extends undefined | never ? never : P) : never
}[keyof paths]

type Json = Record<string, unknown>
type Operation<P extends keyof paths, M extends Method> = paths[P][M]
type Content<R> = R extends { content: { 'application/json': infer C } } ? C : unknown
type Success<Op> = Op extends { responses: infer R }
  ? 200 extends keyof R
    ? Content<R[200]>
    : 201 extends keyof R
      ? Content<R[201]>
      : unknown
  : unknown
type Body<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : Json | undefined

/** What a call answers: the generated type when the document declares one, refined by the caller's
 *  `T` where the document leaves an answer open (a record the service describes); else `T`. */
export type Answer<P extends keyof paths, M extends Method, T> = unknown extends Success<Operation<P, M>>
  ? T
  : Success<Operation<P, M>> & T

export interface CallOptions<B = Json | undefined> {
  params?: Record<string, string>
  query?: Record<string, string | number | boolean | undefined | null>
  body?: B
  /** mutating calls: one key for all attempts (a new one when omitted) */
  idempotencyKey?: string
  retry?: RetryPolicy
  signal?: AbortSignal
}

export const SESSION_HEADER = { 'X-CRM-Session': 'cookie' }

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: ApiErrorBody,
  ) {
    super(body.message || body.code)
    this.name = 'ApiError'
  }
  get code(): string {
    return this.body.code
  }
  get details(): Record<string, unknown> {
    return this.body.details ?? {}
  }
}

// -- the session (memory only) ---------------------------------------------------------------
let accessToken: string | null = null
let refreshing: Promise<boolean> | null = null
let refreshTimer: ReturnType<typeof setTimeout> | null = null
let onSessionLost: (() => void) | null = null
let deviceBound = false

export function setSessionLostHandler(handler: () => void): void {
  onSessionLost = handler
}

export function hasAccessToken(): boolean {
  return accessToken !== null
}

export function setAccessToken(token: string | null, expiresIn?: number, bound?: boolean): void {
  accessToken = token
  if (bound !== undefined) deviceBound = bound
  if (refreshTimer) clearTimeout(refreshTimer)
  refreshTimer = null
  // silent refresh at 80 % of the lifetime (bound devices only: a plain login has no device token)
  if (token && deviceBound && expiresIn && expiresIn > 30) {
    refreshTimer = setTimeout(() => void refreshAccessToken(), expiresIn * 800)
  }
}

/** A new access token from the device cookie; false when there is none (or it was refused). */
export function refreshAccessToken(): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const r = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { ...SESSION_HEADER, Accept: 'application/json' },
        })
        if (!r.ok) return false
        const body = (await r.json()) as { access_token: string; expires_in: number }
        setAccessToken(body.access_token, body.expires_in, true)
        return true
      } catch {
        return false
      } finally {
        refreshing = null
      }
    })()
  }
  return refreshing
}

// -- calls -------------------------------------------------------------------------------------
export function buildUrl(path: string, params?: Record<string, string>, query?: CallOptions['query']): string {
  let url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name]
    if (value === undefined) throw new Error(`missing path parameter ${name} of ${path}`)
    return encodeURIComponent(value)
  })
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  }
  const qs = q.toString()
  if (qs) url += `?${qs}`
  return url
}

async function parse(r: Response): Promise<unknown> {
  const text = await r.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function asError(status: number, body: unknown): ApiError {
  const err = (body as { error?: ApiErrorBody } | null)?.error
  return new ApiError(status, err && typeof err.code === 'string' ? err : { code: `http_${status}`, message: String(body ?? '') })
}

async function send(method: Method, url: string, headers: Record<string, string>, body: BodyInit | undefined, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { method: method.toUpperCase(), headers, body, credentials: 'same-origin', signal })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new NetworkError()
  }
}

export async function call<T = unknown>(method: Method, path: string, opts: CallOptions<unknown> = {}): Promise<T> {
  const url = buildUrl(path, opts.params, opts.query)
  const mutating = method !== 'get'
  const key = mutating ? (opts.idempotencyKey ?? newIdempotencyKey()) : undefined
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const attempt = async (): Promise<T> => {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (payload !== undefined) headers['Content-Type'] = 'application/json'
    if (key) headers['Idempotency-Key'] = key
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`
    let r = await send(method, url, headers, payload, opts.signal)
    if (r.status === 401 && (await refreshAccessToken())) {
      headers.Authorization = `Bearer ${accessToken}`
      r = await send(method, url, headers, payload, opts.signal)
    }
    const body = await parse(r)
    if (!r.ok) {
      if (r.status === 401) onSessionLost?.()
      throw asError(r.status, body)
    }
    return body as T
  }
  return mutating ? withRetry(attempt, opts.retry ?? FIELD_RETRY) : withRetry(attempt, { attempts: 2, delayMs: () => 800 })
}

/** Typed shorthands: the path must be one of the document's, the answer its declared type (or T). */
export const api = {
  get: <P extends PathOf<'get'>, T = unknown>(path: P, opts?: CallOptions<never>) =>
    call<Answer<P, 'get', T>>('get', path as string, opts),
  post: <P extends PathOf<'post'>, T = unknown>(path: P, opts?: CallOptions<Body<Operation<P, 'post'>> | Json>) =>
    call<Answer<P, 'post', T>>('post', path as string, opts),
  put: <P extends PathOf<'put'>, T = unknown>(path: P, opts?: CallOptions<Body<Operation<P, 'put'>> | Json>) =>
    call<Answer<P, 'put', T>>('put', path as string, opts),
  patch: <P extends PathOf<'patch'>, T = unknown>(path: P, opts?: CallOptions<Body<Operation<P, 'patch'>> | Json>) =>
    call<Answer<P, 'patch', T>>('patch', path as string, opts),
  delete: <P extends PathOf<'delete'>, T = unknown>(path: P, opts?: CallOptions<never>) =>
    call<Answer<P, 'delete', T>>('delete', path as string, opts),
}

// -- uploads with progress (XMLHttpRequest: fetch reports no upload progress) -----------------
export interface UploadOptions {
  params?: Record<string, string>
  idempotencyKey: string
  onProgress?: (fraction: number) => void
  retry?: RetryPolicy
}

function xhrOnce(url: string, form: FormData, key: string, onProgress?: (f: number) => void): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('Idempotency-Key', key)
    if (accessToken) xhr.setRequestHeader('Authorization', `Bearer ${accessToken}`)
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && onProgress) onProgress(ev.loaded / ev.total)
    }
    xhr.onload = () => {
      let body: unknown = xhr.responseText
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        /* not JSON */
      }
      resolve({ status: xhr.status, body })
    }
    xhr.onerror = () => reject(new NetworkError())
    xhr.onabort = () => reject(new NetworkError('aborted'))
    xhr.ontimeout = () => reject(new NetworkError('timeout'))
    xhr.timeout = 120000
    xhr.send(form)
  })
}

export async function upload<T = unknown>(path: string, form: FormData, opts: UploadOptions): Promise<T> {
  const url = buildUrl(path, opts.params)
  return withRetry(async () => {
    let r = await xhrOnce(url, form, opts.idempotencyKey, opts.onProgress)
    if (r.status === 401 && (await refreshAccessToken())) r = await xhrOnce(url, form, opts.idempotencyKey, opts.onProgress)
    if (r.status < 200 || r.status >= 300) {
      if (r.status === 401) onSessionLost?.()
      throw asError(r.status, r.body)
    }
    return r.body as T
  }, opts.retry ?? FIELD_RETRY)
}

/** A binary answer (e.g. a photo) as a Blob, with the same auth as every call. */
export async function fetchBlob(path: string): Promise<Blob> {
  const get = () => send('get', path, accessToken ? { Authorization: `Bearer ${accessToken}` } : {}, undefined)
  let r = await get()
  if (r.status === 401 && (await refreshAccessToken())) r = await get()
  if (!r.ok) throw asError(r.status, await parse(r))
  return r.blob()
}

/** A file answer (an export, a template) with download progress (Content-Length and the
 *  streamed body); the file name from Content-Disposition. */
export async function download(
  path: string,
  opts: { query?: CallOptions['query']; onProgress?: (fraction: number | null, bytes: number) => void; signal?: AbortSignal } = {},
): Promise<{ blob: Blob; filename: string }> {
  const url = buildUrl(path, undefined, opts.query)
  const get = () => send('get', url, accessToken ? { Authorization: `Bearer ${accessToken}` } : {}, undefined, opts.signal)
  let r = await get()
  if (r.status === 401 && (await refreshAccessToken())) r = await get()
  if (!r.ok) throw asError(r.status, await parse(r))
  const total = Number(r.headers.get('Content-Length') ?? '') || 0
  const disposition = r.headers.get('Content-Disposition') ?? ''
  const m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition)
  const filename = m ? decodeURIComponent(m[1] ?? m[2]) : 'download'
  const type = r.headers.get('Content-Type') ?? 'application/octet-stream'
  if (!r.body) return { blob: await r.blob(), filename }
  const reader = r.body.getReader()
  const chunks: BlobPart[] = []
  let got = 0
  opts.onProgress?.(total ? 0 : null, 0)
  for (;;) {
    let part: ReadableStreamReadResult<Uint8Array>
    try {
      part = await reader.read()
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new NetworkError()
    }
    if (part.done) break
    chunks.push(part.value as BlobPart)
    got += part.value.byteLength
    opts.onProgress?.(total ? Math.min(1, got / total) : null, got)
  }
  opts.onProgress?.(1, got)
  return { blob: new Blob(chunks, { type }), filename }
}

/** Hand a downloaded file to the browser (the user's downloads). */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
