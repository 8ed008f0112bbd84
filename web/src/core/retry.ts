// Field networks drop. A mutating call carries one Idempotency-Key for all its attempts and is
// retried only when the network failed (no answer at all): the server has either not seen it or
// answers the repeat with the first call's result. An HTTP answer (even 5xx) is never retried
// blindly here: it is the server speaking, and the caller shows it.

export class NetworkError extends Error {
  constructor(message = 'network') {
    super(message)
    this.name = 'NetworkError'
  }
}

export interface RetryPolicy {
  /** attempts in all, the first included */
  attempts: number
  /** delay before attempt n+1 (n starting at 1), in ms */
  delayMs: (attempt: number) => number
}

export const FIELD_RETRY: RetryPolicy = {
  attempts: 3,
  delayMs: (n) => Math.min(4000, 500 * 2 ** (n - 1)),
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID()
}

export async function withRetry<T>(
  work: (attempt: number) => Promise<T>,
  policy: RetryPolicy = FIELD_RETRY,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  let last: unknown
  for (let attempt = 1; attempt <= policy.attempts; attempt += 1) {
    try {
      return await work(attempt)
    } catch (err) {
      last = err
      if (!(err instanceof NetworkError) || attempt === policy.attempts) throw err
      await sleep(policy.delayMs(attempt))
    }
  }
  throw last
}
