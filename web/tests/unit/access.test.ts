import { describe, expect, it } from 'vitest'
import { allowed, guard, type Me } from '@/core/access'

const person = (roles: string[], grant = false): Me => ({ id: 'u', name: 'n', roles, menus: { customer_visits: grant } })

describe('role rules for the screens', () => {
  it('lets people who visit customers use the mobile app, not sales support alone', () => {
    expect(allowed(person(['employee']), 'field')).toBe(true)
    expect(allowed(person(['dept_admin', 'employee']), 'field')).toBe(true)
    expect(allowed(person(['all_customers']), 'field')).toBe(true)
    expect(allowed(person(['support']), 'field')).toBe(false)
  })
  it('grants the PC records page per department, always to the tenant admin', () => {
    expect(allowed(person(['employee']), 'visit_records')).toBe(false)
    expect(allowed(person(['employee'], true), 'visit_records')).toBe(true)
    expect(allowed(person(['tenant_admin']), 'visit_records')).toBe(true)
  })
  it('lets every employee account into the console (seed 000: 主账号和员工账号), with screens per role', () => {
    for (const roles of [['employee'], ['support'], ['dept_admin'], ['all_customers'], ['tenant_admin']]) {
      expect(allowed(person(roles), 'console')).toBe(true)
    }
    expect(allowed(person([]), 'console')).toBe(false)
    expect(allowed(person(['support']), 'customers')).toBe(false) // support follows no customers
    expect(allowed(person(['employee']), 'customers')).toBe(true)
    expect(allowed(person(['dept_admin']), 'organisation')).toBe(true)
    expect(allowed(person(['dept_admin']), 'admin')).toBe(false)
    expect(allowed(person(['employee']), 'assignment')).toBe(false)
    expect(allowed(person(['tenant_admin']), 'admin')).toBe(true)
  })
  it('gives the claim queue and reviews to support and the admin', () => {
    expect(allowed(person(['support']), 'claim_queue')).toBe(true)
    expect(allowed(person(['dept_admin']), 'claim_queue')).toBe(false)
    expect(allowed(person(['tenant_admin']), 'review')).toBe(true)
  })
  it('sends the signed-out to login and the refused to the denied page', () => {
    expect(guard(null, 'field')).toBe('login')
    expect(guard(null, 'public')).toBeNull()
    expect(guard(person(['support']), 'field')).toBe('denied')
    expect(guard(person(['employee']), undefined)).toBeNull()
  })
})
