import { describe, expect, it } from 'vitest'
import { FIELD_RETRY, NetworkError, withRetry } from '@/core/retry'
import { ApiError, buildUrl } from '@/api/client'

const noSleep = async () => undefined

describe('retry with one idempotency key', () => {
  it('retries a network failure and returns the later answer', async () => {
    const attempts: number[] = []
    const out = await withRetry(async (n) => {
      attempts.push(n)
      if (n < 3) throw new NetworkError()
      return 'ok'
    }, FIELD_RETRY, noSleep)
    expect(out).toBe('ok')
    expect(attempts).toEqual([1, 2, 3])
  })
  it('gives up after the last attempt with the network error', async () => {
    await expect(withRetry(async () => { throw new NetworkError() }, { attempts: 2, delayMs: () => 0 }, noSleep)).rejects.toBeInstanceOf(NetworkError)
  })
  it('never repeats a call the server answered, even with an error', async () => {
    let calls = 0
    await expect(withRetry(async () => {
      calls += 1
      throw new ApiError(409, { code: 'pool.claim_lost' })
    }, FIELD_RETRY, noSleep)).rejects.toMatchObject({ status: 409 })
    expect(calls).toBe(1)
  })
  it('backs off between attempts', () => {
    expect([1, 2, 3, 4, 5].map(FIELD_RETRY.delayMs)).toEqual([500, 1000, 2000, 4000, 4000])
  })
})

describe('urls', () => {
  it('fills path parameters and drops empty query values', () => {
    expect(buildUrl('/api/v1/visits/{id}/check-in', { id: 'a/b' }, { x: '', y: 0, z: undefined, q: '上海' }))
      .toBe('/api/v1/visits/a%2Fb/check-in?y=0&q=%E4%B8%8A%E6%B5%B7')
    expect(() => buildUrl('/api/v1/visits/{id}', {})).toThrow(/missing path parameter id/)
  })
})
