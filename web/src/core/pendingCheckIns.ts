// A check-in whose upload failed is kept on the phone (IndexedDB, photo included) with its
// Idempotency-Key, so "retry" from the visit page sends the same request again and the server
// makes at most one check-in of it. Removed once the server has answered.
import { createStore, del, get, keys, set } from 'idb-keyval'

export interface PendingCheckIn {
  visitId: string
  idempotencyKey: string
  fields: Record<string, string>
  photo: Blob
  filename: string
  savedAt: string
  lastError?: string
}

const store = () => createStore('crm-field', 'pending-check-ins')

export async function keep(item: PendingCheckIn): Promise<void> {
  await set(item.visitId, item, store())
}

export async function pendingFor(visitId: string): Promise<PendingCheckIn | undefined> {
  return get<PendingCheckIn>(visitId, store())
}

export async function forget(visitId: string): Promise<void> {
  await del(visitId, store())
}

export async function pendingVisitIds(): Promise<string[]> {
  return (await keys(store())).map(String)
}
