// Shapes the app reads from answers whose schema the OpenAPI document does not declare yet
// (the gateway's routes are moving to pydantic models; once they declare these answers,
// `Answer<>` in client.ts picks the generated types and these fall away).

export interface Page<T> {
  items: T[]
  total: number
  page?: number
  page_size?: number
}

export interface Holder {
  type: 'owner' | 'public_pool' | 'unowned'
  owner_id?: string | null
  owner_name?: string | null
  supervisor_id?: string | null
  supervisor_name?: string | null
}

export interface DuplicateMatch {
  customer_id: string
  name: string
  matched_on: { on: 'name_key' | 'phone'; value: string }[]
  holder: Holder
}

export interface DuplicateResult {
  duplicate: boolean
  name_key?: string
  matches: DuplicateMatch[]
}

export interface Customer {
  id: string
  name: string
  address?: string
  kind?: 'own' | 'vendor'
  grade?: string | null
  industry?: string | null
  landlines?: string[]
  faxes?: string[]
  mobiles?: string[]
  owner_id?: string | null
  location?: { lat: number; lng: number } | null
  tags?: string[]
}

export interface Project {
  id: string
  name: string
  code?: string
  status?: string
}

export interface TimelineEntry {
  id?: string
  kind: string
  at: string
  text?: string
  summary?: string
  data?: Record<string, unknown>
}

export interface ContactNote {
  id: string
  kind: string
  content: string
  at?: string
  created_at?: string
}

export interface Contact {
  id: string
  name: string
  mobile: string
  title?: string
  company?: string
  customer_id?: string | null
  tags?: string[]
}

export interface TagGroup {
  id: string
  name: string
  color: string
  tags: { id: string; name: string }[] | string[]
}

export interface PoolCustomer {
  id: string
  name: string
  industry?: string | null
  grade?: string | null
  phones: Record<string, string[]>
  owner_id?: string | null
  pool: 'public' | 'private'
  released_at?: string | null
  previous_owner_dept_id?: string | null
}

export interface ClaimRequest {
  id: string
  elements: { name: string; address?: string; landline?: string; fax?: string }
  remarks?: string | null
  status: 'pending' | 'approved' | 'rejected' | 'lapsed' | string
  decision_reason?: string | null
  enter_by?: string | null
  submitted_at?: string
  decided_at?: string | null
  customer_id?: string | null
}

export interface Notification {
  id: string
  kind: string
  title: string
  body: string
  read: boolean
  created_at: string
}

export interface Department {
  id: string
  name: string
  parent_id: string | null
}

export interface Criterion {
  name: string
  measured: unknown
  threshold: unknown
  unit?: string
  passed: boolean
}
