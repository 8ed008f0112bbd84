import { describe, expect, it } from 'vitest'
import { rulesFromSchema, type JsonSchema, type Rule } from '@/core/schemaRules'
import { components } from '@/api/openapi.json'

const schemas = components.schemas as unknown as Record<string, JsonSchema>

/** Run one field's rules the way async-validator does; the messages of the rules that fail. */
function check(rules: Rule[] | undefined, value: unknown): string[] {
  const failed: string[] = []
  for (const r of rules ?? []) {
    if (r.validator) {
      r.validator(r, value, (e) => e && failed.push(e.message))
      continue
    }
    if (value === undefined || value === '' || value === null) continue
    if (r.max !== undefined && (typeof value === 'string' || Array.isArray(value)) && value.length > r.max) failed.push(r.message)
    if (r.min !== undefined && (typeof value === 'string' || Array.isArray(value)) && value.length < r.min) failed.push(r.message)
    if (r.pattern && typeof value === 'string' && !r.pattern.test(value)) failed.push(r.message)
  }
  return failed
}

describe('form rules from the OpenAPI request schemas', () => {
  it("gives the employee form the API's required fields and limits", () => {
    const rules = rulesFromSchema(schemas.EmployeeIn, 'zh-CN', { components: schemas })
    expect(check(rules.name, '')).toEqual(['必填'])
    expect(check(rules.name, '   ')).toEqual(['必填'])
    expect(check(rules.name, 'x'.repeat(65))).toEqual(['最多 64 个字符'])
    expect(check(rules.name, '王五')).toEqual([])
    expect(check(rules.dept_ids, [])).toEqual(['必填'])
    expect(check(rules.roles, ['a', 'b', 'c', 'd', 'e', 'f'])).toEqual(['最多 5 项'])
    expect(check(rules.roles, 'employee, support')).toEqual([]) // a list typed as text checks itself
  })
  it('checks choices', () => {
    const rules = rulesFromSchema(schemas.CustomerIn, 'zh-CN', { components: schemas })
    expect(check(rules.kind, 'other')).toEqual(['不是可选的值'])
    expect(check(rules.kind, 'vendor')).toEqual([])
  })
  it('gives nested objects dotted paths and number ranges', () => {
    const rules = rulesFromSchema(schemas.RulesIn, 'en', { components: schemas })
    expect(check(rules.capacity, 0)).toEqual(['At least 1'])
    expect(check(rules.capacity, 2.5)).toEqual(['A whole number'])
    expect(check(rules.capacity, 300)).toEqual([])
    expect(check(rules['reclaim.no_contact.days'], 0)).toEqual(['At least 1'])
  })
  it('limits a form to the fields it shows and adds what it needs', () => {
    const rules = rulesFromSchema(schemas.CustomerIn, 'zh-CN', { components: schemas, only: ['name', 'address', 'grade'], require: ['grade'] })
    expect(Object.keys(rules).sort()).toEqual(['address', 'grade', 'name'])
    expect(check(rules.grade, '')).toEqual(['必填'])
    expect(check(rules.address, 'x'.repeat(201))).toEqual(['最多 200 个字符'])
  })
  it('follows $ref and nullable forms', () => {
    const comps: Record<string, JsonSchema> = { Name: { type: 'string', maxLength: 3 } }
    const rules = rulesFromSchema(
      { type: 'object', required: ['a'], properties: { a: { $ref: '#/components/schemas/Name' }, b: { anyOf: [{ type: 'integer', maximum: 5 }, { type: 'null' }] } } },
      'en',
      { components: comps },
    )
    expect(check(rules.a, 'abcd')).toEqual(['At most 3 characters'])
    expect(check(rules.b, 6)).toEqual(['At most 5'])
    expect(check(rules.b, null)).toEqual([])
  })
})
