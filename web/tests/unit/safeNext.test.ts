import { describe, expect, it } from 'vitest'
import { safeNext } from '@/core/useSignIn'

describe('safeNext', () => {
  it('keeps a path of this app', () => {
    expect(safeNext('/customers?page=2')).toBe('/customers?page=2')
  })
  it('refuses another host, an absolute URL and anything else', () => {
    for (const v of ['//evil.example/x', 'https://evil.example', 'customers', '', undefined, ['/a']]) {
      expect(safeNext(v)).toBeNull()
    }
  })
})
