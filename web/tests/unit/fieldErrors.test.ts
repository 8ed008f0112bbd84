import { describe, expect, it } from 'vitest'
import { errorsByProp, fieldErrorsOf, propFor } from '@/core/fieldErrors'

describe("the API's field errors", () => {
  it('reads the customers shape (details.errors[])', () => {
    const body = {
      code: 'customer.invalid',
      details: { errors: [{ field: 'name', code: 'required', message: 'is required' }, { field: 'landlines[0]', code: 'invalid_phone', message: "not a phone number: 'x'" }] },
    }
    expect(fieldErrorsOf(body).map((e) => e.field)).toEqual(['name', 'landlines[0]'])
    const { byProp, other } = errorsByProp(body, ['name', 'address', 'landlines'], 'zh-CN')
    expect(byProp).toEqual({ name: '必填', landlines: '不是有效的电话号码' })
    expect(other).toEqual([])
  })
  it("reads the pool's shape (details.fields) and nested paths", () => {
    const body = { code: 'pool.rules_invalid', details: { fields: { 'reclaim.no_contact.days': 'must be an integer in 1..3650', capacity: 'must be an integer in 1..100000' } } }
    const { byProp } = errorsByProp(body, ['capacity', 'reclaim.no_contact.days', 'reclaim.no_contact'], 'en')
    expect(byProp).toEqual({ capacity: 'must be an integer in 1..100000', 'reclaim.no_contact.days': 'must be an integer in 1..3650' })
  })
  it("reads identity's shape (details.field with the error's own code)", () => {
    const body = { code: 'validation.too_long', message: 'name is longer than 64 characters', details: { field: 'name' } }
    expect(errorsByProp(body, ['name'], 'zh-CN').byProp).toEqual({ name: '内容太长' })
  })
  it('keeps errors of fields the form does not show (nothing is lost)', () => {
    const body = { code: 'x', details: { errors: [{ field: 'billing.tax_no', code: 'too_long', message: 'm' }] } }
    expect(errorsByProp(body, ['name'], 'en')).toEqual({ byProp: {}, other: ['billing.tax_no: Too long'] })
  })
  it('answers nothing for errors without fields', () => {
    expect(fieldErrorsOf({ code: 'pool.capacity_full', details: { held: 3, capacity: 3 } })).toEqual([])
    expect(fieldErrorsOf(null)).toEqual([])
  })
  it('matches a path to the longest form item it belongs to', () => {
    expect(propFor('location.lat', ['location', 'location.lat'])).toBe('location.lat')
    expect(propFor('mobiles[2]', ['mobiles'])).toBe('mobiles')
    expect(propFor('mobile', ['mobiles'])).toBeNull()
  })
})
