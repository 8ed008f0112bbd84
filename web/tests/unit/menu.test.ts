import { describe, expect, it } from 'vitest'
import { MENU, visibleMenu, screens, mayOpen, firstScreen } from '@/console/menu'
import { allowed, type Me } from '@/core/access'
import { consoleMessages } from '@/console/i18n'

const person = (roles: string[], grant = false): Me => ({ id: 'u', name: 'n', roles, menus: { customer_visits: grant } })
const names = (me: Me) => visibleMenu(me).flatMap((e) => [e.name, ...(e.children ?? []).map((c) => c.name)])

describe('the console menu registry', () => {
  it('has unique route names and paths, a title in both languages and an access rule for every entry', () => {
    const all = screens()
    expect(new Set(all.map((s) => s.entry.name)).size).toBe(all.length)
    expect(new Set(all.map((s) => s.entry.path)).size).toBe(all.length)
    const titles = consoleMessages['zh-CN'].console.shell.menu as Record<string, string>
    const en = consoleMessages.en.console.shell.menu as Record<string, string>
    const walk = (entries: typeof MENU): void => {
      for (const e of entries) {
        expect(titles[e.title], e.title).toBeTruthy()
        expect(en[e.title], e.title).toBeTruthy()
        expect(e.access).toBeTruthy()
        if (e.children) walk(e.children)
        else expect(e.component).toBeTypeOf('function')
      }
    }
    walk(MENU)
  })
  it('shows each person only what their roles and their department grant allow', () => {
    expect(names(person(['tenant_admin']))).toContain('menu-permissions')
    expect(names(person(['tenant_admin']))).toContain('visit-records')
    expect(names(person(['employee'], true))).toContain('visit-records')
    expect(names(person(['employee']))).not.toContain('visit-records')
    expect(names(person(['employee']))).not.toContain('organisation')
    expect(names(person(['dept_admin']))).toContain('departments')
    expect(names(person(['dept_admin']))).not.toContain('menu-permissions')
    expect(names(person(['support']))).toContain('claim-requests')
    expect(names(person(['support']))).not.toContain('customers')
  })
  it('hides a group with nothing to show, and never shows an entry its guard would refuse', () => {
    expect(names(person(['employee']))).not.toContain('settings')
    for (const roles of [['employee'], ['support'], ['dept_admin'], ['all_customers'], ['tenant_admin']]) {
      const me = person(roles)
      const shown = new Set(names(me))
      for (const { entry, groupAccess } of screens()) {
        expect(shown.has(entry.name), `${roles} ${entry.name}`).toBe(mayOpen(me, entry.access, groupAccess) && allowed(me, entry.access))
      }
    }
  })
  it('lands each person on a screen they may open', () => {
    expect(firstScreen(person(['support']))).toBe('home')
    expect(firstScreen(null)).toBe('denied')
  })
})
