// Who may open which screen: the same role rules the API enforces (identity's README, SPEC §2,
// §4, §5, the customers, pool, visits and notify READMEs). Hiding a screen is never the guard —
// the API refuses anyway; this keeps people away from screens that would only answer 403.
// Both shells' route guards and the console's side menu (console/menu.ts) read these rules.

export type Role = 'tenant_admin' | 'dept_admin' | 'all_customers' | 'support' | 'employee'

export interface Me {
  id: string
  name: string
  roles: string[]
  menus?: { customer_visits?: boolean }
}

/** Screen families, used by both shells' route guards (route meta `access`). */
export type Access =
  | 'public'
  | 'field' // the mobile app: people who plan and make visits and follow customers
  | 'console' // the PC console at all: every employee account (seed 000: 主账号和员工账号)
  | 'customers' // customers, contacts, the map: people who follow customers (support follows none)
  | 'assignment' // bind/unbind, share, department assignment, transfer (人员客户表)
  | 'organisation' // departments and employees
  | 'admin' // the tenant admin alone: menu grants, tags and fields, pool rules, deleted customers, delivery ops
  | 'imports' // the customer import wizard and exports
  | 'visit_records' // the PC customer-visits records page (per-department grant)
  | 'claim_queue' // sales support's claim-request queue and direct assignment
  | 'review' // visit validity review
  | 'pool_watch' // upcoming reclaims and warnings: the admin and department admins
  | 'reports' // report centre: everyone sees their own figures, managers their subtrees

const FIELD_ROLES: Role[] = ['employee', 'dept_admin', 'all_customers', 'tenant_admin']
const ALL_ROLES: Role[] = ['tenant_admin', 'dept_admin', 'all_customers', 'support', 'employee']

export function hasRole(me: Me | null, ...roles: Role[]): boolean {
  return !!me && me.roles.some((r) => (roles as string[]).includes(r))
}

export function allowed(me: Me | null, access: Access): boolean {
  if (access === 'public') return true
  if (!me) return false
  switch (access) {
    case 'field':
    case 'customers':
      return hasRole(me, ...FIELD_ROLES)
    case 'console':
    case 'reports':
      return hasRole(me, ...ALL_ROLES)
    case 'assignment':
    case 'organisation':
    case 'pool_watch':
      return hasRole(me, 'tenant_admin', 'dept_admin')
    case 'imports':
      return hasRole(me, 'tenant_admin', 'dept_admin', 'all_customers')
    case 'admin':
      return hasRole(me, 'tenant_admin')
    case 'visit_records':
      return hasRole(me, 'tenant_admin') || !!me.menus?.customer_visits
    case 'claim_queue':
    case 'review':
      return hasRole(me, 'support', 'tenant_admin')
  }
}

/** Where a route guard sends someone: null = go on, else a route name. */
export function guard(me: Me | null, access: Access | undefined, loginRoute = 'login', deniedRoute = 'denied'): string | null {
  const need = access ?? 'field'
  if (need === 'public') return null
  if (!me) return loginRoute
  return allowed(me, need) ? null : deniedRoute
}
