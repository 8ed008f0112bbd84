// Customers this phone just took from the public pool. The pool owns ownership; the customers
// service learns of the claim from customer.owner_changed a moment later (longer under load).
// Until it has, "my customers" asks again, so a claimed customer shows up without a pull.
import { defineStore } from 'pinia'
import { ref } from 'vue'

/** how long a claim is waited for (then the list is what the customers service says) */
export const WAIT_MS = 60_000

export const useJustClaimed = defineStore('justClaimed', () => {
  const at = ref<Record<string, number>>({})

  function add(id: string): void {
    at.value[id] = Date.now()
  }

  function drop(id: string): void {
    delete at.value[id]
  }

  /** the ids still waited for (older ones are forgotten) */
  function pending(): string[] {
    const now = Date.now()
    for (const [id, t] of Object.entries(at.value)) if (now - t > WAIT_MS) delete at.value[id]
    return Object.keys(at.value)
  }

  return { add, drop, pending }
})
