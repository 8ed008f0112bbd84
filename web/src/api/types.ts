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
  region?: string | null
  customer_type?: 'company' | 'person'
  remark?: string | null
  contract_start?: string | null
  contract_end?: string | null
  billing?: { title?: string; tax_no?: string; bank?: string; account?: string; address?: string; phone?: string } | null
  cbm?: { id: string; name: string; email: string; mobile?: string | null } | null
  cbm_id?: string | null
  dept_ids?: string[]
  shared_with?: string[]
  custom?: Record<string, unknown>
  created_at?: string
  unowned?: boolean
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
  address?: string | null
  customer_id?: string | null
  tags?: string[]
  owner_id?: string | null
  owner_name?: string | null
  share_scope?: string
  unowned?: boolean
  created_at?: string
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
  requester_id?: string
  decided_by?: string | null
  name_fix_by?: string | null
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
  manager_id?: string | null
  children?: Department[]
}

export interface DeparturePreview {
  employee_id: string
  name: string
  handover_to: string | null
  handover_name: string | null
  customers: number
  contacts: number
  future_visits: number
}

export interface Invitation {
  invitation_id: string
  expires_at: string
  employee_id: string
  token?: string
  status?: string
}

export interface OwnershipRow {
  seq: number
  from_owner_id: string | null
  to_owner_id: string | null
  path: string
  reason?: string | null
  actor_id?: string | null
  at: string
}

export interface DeletedCustomer {
  id: string
  name: string
  owner_id: string | null
  owner_name: string | null
  deleted_at: string | null
  deleted_by: string | null
  deleted_by_name: string | null
  reason: string
}

export interface CustomField {
  id: string
  entity: 'customer' | 'contact'
  key: string
  label: string
  type: string
  options: string[]
  required: boolean
  builtin: boolean
}

export interface ImportProblem {
  row: number
  column: string | null
  code: string
  message: string
}

export interface ImportReport {
  ok: boolean
  rows: number | null
  problems: ImportProblem[]
  total?: number
  truncated?: boolean
}

export interface ImportResult {
  import_id?: string
  created: number
  customers?: { row: number; id: string; name: string }[]
  contacts?: { row: number; id: string; name: string }[]
}

export interface ContactTier {
  tier: string
  contact_limit: number
  used: number
  tiers: Record<string, number>
}

export interface PoolRules {
  capacity: number
  cooldown_days: number
  daily_claim_limit: number
  reclaim: Record<'no_contact' | 'no_visit' | 'no_deal', { enabled: boolean; days: number }>
  warning_lead_days: number[]
  protection: { service_months: number; renewal_months: number; after_expiry_months: number }
  request_entry_working_days: number
  name_fix_working_days: number
  targets: Record<string, number>
}

export interface RulesPreview {
  total: number
  by_day: { day: string; count: number; customer_ids: string[] }[]
  by_rule: Record<string, number>
  from: string
  to: string
}

export interface ReclaimRow {
  customer_id: string
  from_owner_id: string
  reason: string
  seq: number
  at: string
}

export interface ReclaimWarning {
  customer_id: string
  owner_id: string
  reclaim_on: string
  lead_days: number
  rule: string
  day: string
}

export interface DailyTargets {
  day?: string
  user_id?: string
  targets: Record<string, number>
  actuals: Record<string, number>
  rows?: { metric: string; target: number; actual: number | null }[]
}

export interface Criterion {
  name: string
  measured: unknown
  threshold: unknown
  unit?: string
  passed: boolean
}
