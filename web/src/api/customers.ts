import { api } from './client'
import type { Contact, ContactNote, Customer, DuplicateResult, Page, Project, TagGroup, TimelineEntry } from './types'

export interface CustomerInput {
  name: string
  address: string
  landlines?: string[]
  faxes?: string[]
  mobiles?: string[]
  industry?: string
  grade?: string
  location?: { lat: number; lng: number }
}

export const listCustomers = (query: { q?: string; page?: number; page_size?: number }) =>
  api.get<'/api/v1/customers', Page<Customer>>('/api/v1/customers', { query }) as Promise<Page<Customer>>

export const getCustomer = (id: string) =>
  api.get<'/api/v1/customers/{id}', Customer>('/api/v1/customers/{id}', { params: { id } }) as Promise<Customer>

export const duplicateCheck = (body: { name?: string; phones?: string[] }, signal?: AbortSignal) =>
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

export const listContacts = (query: { q?: string; tag?: string; customer_id?: string; page_size?: number }) =>
  api.get<'/api/v1/contacts', Page<Contact>>('/api/v1/contacts', { query }) as Promise<Page<Contact>>

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
