import { describe, expect, it } from 'vitest'
import { allNumbers, canSubmit, checkable, missing, splitNumbers, type EntryForm } from '@/core/customerForm'

const form = (over: Partial<EntryForm> = {}): EntryForm => ({ name: '苏州日东精密电子有限公司', address: '苏州市 1 号', landlines: '0512-12345678', faxes: '', mobiles: '', ...over })

describe('customer entry rules', () => {
  it('splits number lists the way people type them', () => {
    expect(splitNumbers('0512-1111，0512-2222、 13900000000;x ')).toEqual(['0512-1111', '0512-2222', '13900000000', 'x'])
    expect(allNumbers(form({ faxes: '0512-3', mobiles: '139' }))).toEqual(['0512-12345678', '0512-3', '139'])
  })
  it('needs a name, an address and at least one number', () => {
    expect(missing(form())).toEqual([])
    expect(missing(form({ name: ' ', address: '', landlines: '' }))).toEqual(['name', 'address', 'phone'])
  })
  it('submits only after a clean duplicate check that is not running', () => {
    expect(canSubmit(form(), null, false)).toBe(false)
    expect(canSubmit(form(), { duplicate: false, matches: [] }, true)).toBe(false)
    expect(canSubmit(form(), { duplicate: true, matches: [] }, false)).toBe(false)
    expect(canSubmit(form(), { duplicate: false, matches: [] }, false)).toBe(true)
    expect(canSubmit(form({ address: '' }), { duplicate: false, matches: [] }, false)).toBe(false)
  })
  it('asks the server only when there is something to check', () => {
    expect(checkable(form({ name: '苏', landlines: '0512' }))).toBe(false)
    expect(checkable(form({ name: '', landlines: '05121' }))).toBe(true)
  })
})
