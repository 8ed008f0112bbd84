// Customers this phone just took from the public pool or gave back to it. The pool owns
// ownership; the customers service (whose list is "my customers") learns of a move from
// customer.owner_changed a moment later, longer under load. Until it has, the list hides what
// was released and asks again for what was claimed, so the list shows the move at once.
import { defineStore } from 'pinia'
import { ref } from 'vue'

/** how long a move is waited for (then the list is what the customers service says) */
export const WAIT_MS = 60_000

export type Move = 'claimed' | 'released'

export const useOwnershipMoves = defineStore('ownershipMoves', () => {
  const moves = ref<Record<string, { move: Move; at: number }>>({})

  function record(id: string, move: Move): void {
    moves.value[id] = { move, at: Date.now() }
  }

  function drop(id: string): void {
    delete moves.value[id]
  }

  /** the moves still waited for (older ones are forgotten) */
  function pending(): Array<{ id: string; move: Move }> {
    const now = Date.now()
    for (const [id, m] of Object.entries(moves.value)) if (now - m.at > WAIT_MS) delete moves.value[id]
    return Object.entries(moves.value).map(([id, m]) => ({ id, move: m.move }))
  }

  function released(id: string): boolean {
    return moves.value[id]?.move === 'released'
  }

  return { record, drop, pending, released }
})
