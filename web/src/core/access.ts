// Who may open which screen: the same role rules the API enforces (identity's README, SPEC §2,
// §4, §5). Hiding a screen is never the guard — the API refuses anyway; this keeps people
// away from screens that would only answer 403.

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
  | 'console' // the PC console at all
  | 'visit_records' // the PC customer-visits records page (per-department grant)
  | 'claim_queue' // sales support's claim-request queue
  | 'review' // visit validity review
  | 'organisation' // departments and employees

const FIELD_ROLES: Role[] = ['employee', 'dept_admin', 'all_customers', 'tenant_admin']

export function hasRole(me: Me | null, ...roles: Role[]): boolean {
  return !!me && me.roles.some((r) => (roles as string[]).includes(r))
}

export function allowed(me: Me | null, access: Access): boolean {
  if (access === 'public') return true
  if (!me) return false
  switch (access) {
    case 'field':
      return hasRole(me, ...FIELD_ROLES)
    case 'console':
      return hasRole(me, 'tenant_admin', 'dept_admin', 'support', 'all_customers') || !!me.menus?.customer_visits
    case 'visit_records':
      return hasRole(me, 'tenant_admin') || !!me.menus?.customer_visits
    case 'claim_queue':
    case 'review':
      return hasRole(me, 'support', 'tenant_admin')
    case 'organisation':
      return hasRole(me, 'tenant_admin', 'dept_admin')
  }
}

/** Where a route guard sends someone: null = go on, else a route name. */
export function guard(me: Me | null, access: Access | undefined, loginRoute = 'login', deniedRoute = 'denied'): string | null {
  const need = access ?? 'field'
  if (need === 'public') return null
  if (!me) return loginRoute
  return allowed(me, need) ? null : deniedRoute
}
