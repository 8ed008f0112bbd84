import { api, download, newKey, upload } from './client'
import type {
  Contact,
  ContactNote,
  ContactTier,
  CustomField,
  Customer,
  DeletedCustomer,
  DuplicateResult,
  ImportReport,
  ImportResult,
  OwnershipRow,
  Page,
  Project,
  TagGroup,
  TimelineEntry,
} from './types'

export interface CustomerInput {
  name: string
  address: string
  landlines?: string[]
  faxes?: string[]
  mobiles?: string[]
  industry?: string
  grade?: string
  region?: string
  kind?: 'own' | 'vendor'
  customer_type?: 'company' | 'person'
  location?: { lat: number; lng: number }
  tags?: string[]
  remark?: string
  cbm_id?: string | null
  contract_start?: string | null
  contract_end?: string | null
  billing?: Record<string, string>
  custom?: Record<string, unknown>
}

export interface CustomerQuery {
  q?: string
  owner_id?: string
  grade?: string
  tag?: string
  kind?: string
  dept_id?: string
  unowned?: boolean
  page?: number
  page_size?: number
}

export const listCustomers = (query: CustomerQuery, signal?: AbortSignal) =>
  api.get<'/api/v1/customers', Page<Customer>>('/api/v1/customers', { query: { ...query }, signal }) as Promise<Page<Customer>>

export const getCustomer = (id: string) =>
  api.get<'/api/v1/customers/{id}', Customer>('/api/v1/customers/{id}', { params: { id } }) as Promise<Customer>

export const duplicateCheck = (
  body: { name?: string; phones?: string[]; landlines?: string[]; faxes?: string[]; mobiles?: string[]; billing?: { title?: string; phone?: string } },
  signal?: AbortSignal,
) =>
  api.post<'/api/v1/customers/duplicate-check', DuplicateResult>('/api/v1/customers/duplicate-check', {
    body,
    signal,
    retry: { attempts: 1, delayMs: () => 0 },
  }) as Promise<DuplicateResult>

export const createCustomer = (body: CustomerInput, idempotencyKey?: string) =>
  api.post<'/api/v1/customers', Customer>('/api/v1/customers', { body: body as never, idempotencyKey }) as Promise<Customer>

export const projects = (id: string) =>
  api.get<'/api/v1/customers/{id}/projects', Project[] | Page<Project>>('/api/v1/customers/{id}/projects', {
    params: { id },
  }) as Promise<Project[] | Page<Project>>

export const timeline = (id: string) =>
  api.get<'/api/v1/customers/{id}/timeline', Page<TimelineEntry>>('/api/v1/customers/{id}/timeline', {
    params: { id },
    query: { page_size: 50 },
  }) as Promise<Page<TimelineEntry>>

export const contactNotes = (id: string) =>
  api.get<'/api/v1/customers/{id}/contact-notes', Page<ContactNote>>('/api/v1/customers/{id}/contact-notes', {
    params: { id },
  }) as Promise<Page<ContactNote>>

export const addContactNote = (id: string, body: { kind: string; content: string; contact_id?: string }) =>
  api.post<'/api/v1/customers/{id}/contact-notes', ContactNote>('/api/v1/customers/{id}/contact-notes', {
    params: { id },
    body,
  }) as Promise<ContactNote>

export const listContacts = (
  query: { q?: string; tag?: string; scope?: string; customer_id?: string; page?: number; page_size?: number },
  signal?: AbortSignal,
) => api.get<'/api/v1/contacts', Page<Contact>>('/api/v1/contacts', { query: { ...query }, signal }) as Promise<Page<Contact>>

export const createContact = (body: { name: string; mobile: string; title?: string; customer_id?: string; tags?: string[] }) =>
  api.post<'/api/v1/contacts', Contact>('/api/v1/contacts', { body }) as Promise<Contact>

export const tagGroups = () =>
  api.get<'/api/v1/tag-groups', { items: TagGroup[] } | TagGroup[]>('/api/v1/tag-groups') as Promise<
    { items: TagGroup[] } | TagGroup[]
  >

// -- the console (issue 15): the customer distribution map ---------------------------------------
export interface MapFeature {
  type: 'Feature'
  geometry: { type: 'Point'; coordinates: [number, number] }
  properties: { id: string; name: string; owner_id: string | null; grade?: string | null; address?: string | null }
}

/** Customers of one or several employees as GeoJSON points (SPEC §3 maps). */
export const customerMap = (ownerIds: string[]) =>
  api.get('/api/v1/customers/map', { query: { owner_ids: ownerIds.join(',') } }) as Promise<{ type: 'FeatureCollection'; features: MapFeature[] }>

// -- the console: customers -----------------------------------------------------------------------
export const updateCustomer = (id: string, body: Partial<CustomerInput>) =>
  api.patch<'/api/v1/customers/{id}', Customer>('/api/v1/customers/{id}', { params: { id }, body: { ...body } }) as Promise<Customer>

export const deleteCustomer = (id: string, reason: string) =>
  api.delete('/api/v1/customers/{id}', { params: { id }, query: { reason } } as never)

export const deletedCustomers = (query: { page?: number; page_size?: number }, signal?: AbortSignal) =>
  api.get<'/api/v1/deleted-customers', Page<DeletedCustomer>>('/api/v1/deleted-customers', { query, signal }) as Promise<Page<DeletedCustomer>>

export const restoreCustomer = (id: string, body: { reason?: string; owner_id?: string | null }) =>
  api.post<'/api/v1/deleted-customers/{id}/restore', Customer>('/api/v1/deleted-customers/{id}/restore', {
    params: { id },
    body: { ...body },
  }) as Promise<Customer>

export const transferCustomer = (id: string, newOwnerId: string, reason?: string) =>
  api.post('/api/v1/customers/{id}/transfer', { params: { id }, body: { new_owner_id: newOwnerId, reason } })

export const bindCustomers = (customerIds: string[], ownerId: string | null, reason?: string) =>
  api.post<'/api/v1/customers/bind', { changed: number }>('/api/v1/customers/bind', {
    body: { customer_ids: customerIds, owner_id: ownerId, reason },
  }) as Promise<{ changed: number }>

export const shareCustomers = (fromOwnerId: string, toUserIds: string[], unshare = false) =>
  api.post<'/api/v1/customers/share', { customers: number | string[] }>('/api/v1/customers/share', {
    body: { from_owner_id: fromOwnerId, to_user_ids: toUserIds, unshare },
  }) as Promise<{ customers: number | string[] }>

export const assignDepartments = (customerIds: string[], deptIds: string[], unassign = false) =>
  api.post('/api/v1/customers/departments', { body: { customer_ids: customerIds, dept_ids: deptIds, unassign } })

export const ownership = (id: string) =>
  api.get<'/api/v1/customers/{id}/ownership', OwnershipRow[] | { items: OwnershipRow[] }>('/api/v1/customers/{id}/ownership', {
    params: { id },
  }) as Promise<OwnershipRow[] | { items: OwnershipRow[] }>

export const createProject = (id: string, body: { name: string; code?: string }) =>
  api.post<'/api/v1/customers/{id}/projects', Project>('/api/v1/customers/{id}/projects', { params: { id }, body }) as Promise<Project>

export const cbms = (q?: string) =>
  api.get<'/api/v1/cbms', Page<{ id: string; name: string; email: string }>>('/api/v1/cbms', { query: { q, page_size: 50 } }) as Promise<
    Page<{ id: string; name: string; email: string }>
  >

// -- tags and fields ------------------------------------------------------------------------------
export const createTagGroup = (body: { name: string; color: string; tags: { id?: string; name: string }[] }) =>
  api.post<'/api/v1/tag-groups', TagGroup>('/api/v1/tag-groups', { body }) as Promise<TagGroup>

export const updateTagGroup = (id: string, body: { name?: string; color?: string; tags?: { id?: string; name: string }[] }) =>
  api.patch<'/api/v1/tag-groups/{id}', TagGroup>('/api/v1/tag-groups/{id}', { params: { id }, body }) as Promise<TagGroup>

export const deleteTagGroup = (id: string) => api.delete('/api/v1/tag-groups/{id}', { params: { id } })

export const customFields = (entity?: 'customer' | 'contact') =>
  api.get<'/api/v1/custom-fields', CustomField[] | { items: CustomField[] }>('/api/v1/custom-fields', { query: { entity } }) as Promise<
    CustomField[] | { items: CustomField[] }
  >

export const createCustomField = (body: { entity: string; key: string; label: string; type: string; options?: string[]; required?: boolean }) =>
  api.post<'/api/v1/custom-fields', CustomField>('/api/v1/custom-fields', { body }) as Promise<CustomField>

export const deleteCustomField = (id: string) => api.delete('/api/v1/custom-fields/{id}', { params: { id } })

// -- contacts -------------------------------------------------------------------------------------
export const updateContact = (id: string, body: Partial<Contact> & { owner_id?: string | null }) =>
  api.patch<'/api/v1/contacts/{id}', Contact>('/api/v1/contacts/{id}', { params: { id }, body: { ...body } }) as Promise<Contact>

export const deleteContact = (id: string) => api.delete('/api/v1/contacts/{id}', { params: { id } })

export const contactTier = () => api.get<'/api/v1/contacts/tier', ContactTier>('/api/v1/contacts/tier') as Promise<ContactTier>

export const setContactTier = (tier: string) => api.put('/api/v1/contacts/tier', { body: { tier } })

// -- imports and exports --------------------------------------------------------------------------
export type Sheet = 'customers' | 'contacts'
const SHEET_PATHS = {
  customers: { template: '/api/v1/customers/import/template', check: '/api/v1/customers/import/check', run: '/api/v1/customers/import' },
  contacts: { template: '/api/v1/contacts/import/template', check: '/api/v1/contacts/import/check', run: '/api/v1/contacts/import' },
} as const

export const importTemplate = (sheet: Sheet) => download(SHEET_PATHS[sheet].template)

function sheetForm(file: File): FormData {
  const form = new FormData()
  form.append('file', file, file.name)
  return form
}

/** The check step: every problem by row and column (upload progress reported). */
export const checkImport = (sheet: Sheet, file: File, onProgress?: (f: number) => void) =>
  upload<ImportReport>(SHEET_PATHS[sheet].check, sheetForm(file), { idempotencyKey: newKey(), onProgress, retry: { attempts: 1, delayMs: () => 0 } })

/** The import itself: all or nothing. */
export const runImport = (sheet: Sheet, file: File, onProgress?: (f: number) => void) =>
  upload<ImportResult>(SHEET_PATHS[sheet].run, sheetForm(file), { idempotencyKey: newKey(), onProgress, retry: { attempts: 1, delayMs: () => 0 } })

export const exportCustomers = (onProgress?: (f: number | null, bytes: number) => void, ownerIds?: string[]) =>
  download('/api/v1/customers/export', { query: { owner_ids: ownerIds?.length ? ownerIds.join(',') : undefined }, onProgress })

export const exportEmployeeCustomers = (onProgress?: (f: number | null, bytes: number) => void) =>
  download('/api/v1/customers/export/employee-customers', { onProgress })
