// The console's ONE registry of screens: every entry names its route, its title (an i18n key
// under console.shell.menu), its icon and its access rule from core/access.ts. The side menu,
// the router (routes, guards, breadcrumbs) and the home page's shortcuts are all built from
// it, so a screen is hidden from exactly the people its guard refuses — and the API refuses
// them anyway (hiding is never the only guard).
//
// Entries marked `soon` were placeholders ("coming soon"); console II (issue 15) filled them all:
// it only replaces their `component` (and drops `soon`).
import { markRaw, type Component } from 'vue'
import {
  Bell,
  Calendar,
  Checked,
  Connection,
  DataAnalysis,
  Delete,
  Document,
  Download,
  Files,
  Guide,
  Histogram,
  HomeFilled,
  Key,
  Link,
  List,
  MapLocation,
  Message,
  OfficeBuilding,
  Odometer,
  PieChart,
  Postcard,
  PriceTag,
  Setting,
  Share,
  Tickets,
  TrendCharts,
  Upload,
  UserFilled,
  Warning,
  Failed,
  Coin,
  Memo,
  Collection,
  Operation,
} from '@element-plus/icons-vue'
import { allowed, type Access, type Me } from '@/core/access'

export type Loader = () => Promise<unknown>

export interface MenuEntry {
  /** the route's name (unique) */
  name: string
  /** the path under /console/ (no leading slash) */
  path: string
  /** i18n key of the title, under console.shell.menu */
  title: string
  icon: Component
  access: Access
  /** the screen; a group (with children) has none */
  component?: Loader
  children?: MenuEntry[]
  /** a placeholder of console II */
  soon?: boolean
  /** a route without a menu item (e.g. a detail page reached from a table) */
  hidden?: boolean
}

const icon = (c: Component) => markRaw(c)

export const MENU: MenuEntry[] = [
  { name: 'home', path: '', title: 'home', icon: icon(HomeFilled), access: 'console', component: () => import('./views/home/HomeView.vue') },
  {
    name: 'organisation', path: 'organisation', title: 'organisation', icon: icon(OfficeBuilding), access: 'organisation',
    children: [
      { name: 'departments', path: 'organisation/departments', title: 'departments', icon: icon(OfficeBuilding), access: 'organisation', component: () => import('./views/org/DepartmentsView.vue') },
      { name: 'employees', path: 'organisation/employees', title: 'employees', icon: icon(UserFilled), access: 'organisation', component: () => import('./views/org/EmployeesView.vue') },
      { name: 'menu-permissions', path: 'organisation/menu-permissions', title: 'menuPermissions', icon: icon(Key), access: 'admin', component: () => import('./views/org/MenuPermissionsView.vue') },
    ],
  },
  {
    name: 'customers-group', path: 'customers', title: 'customers', icon: icon(Postcard), access: 'console',
    children: [
      { name: 'customers', path: 'customers/list', title: 'customerList', icon: icon(Postcard), access: 'customers', component: () => import('./views/customers/CustomersView.vue') },
      { name: 'employee-customers', path: 'customers/employees', title: 'employeeCustomers', icon: icon(Connection), access: 'assignment', component: () => import('./views/customers/EmployeeCustomersView.vue') },
      { name: 'customer-import', path: 'customers/import', title: 'customerImport', icon: icon(Upload), access: 'imports', component: () => import('./views/customers/CustomerImportView.vue') },
      { name: 'exports', path: 'customers/exports', title: 'exports', icon: icon(Download), access: 'imports', component: () => import('./views/customers/ExportsView.vue') },
      { name: 'deleted-customers', path: 'customers/deleted', title: 'deletedCustomers', icon: icon(Delete), access: 'admin', component: () => import('./views/customers/DeletedCustomersView.vue') },
    ],
  },
  {
    name: 'contacts-group', path: 'contacts', title: 'contacts', icon: icon(Tickets), access: 'customers',
    children: [
      { name: 'contacts', path: 'contacts/list', title: 'contactList', icon: icon(Tickets), access: 'customers', component: () => import('./views/contacts/ContactsView.vue') },
      { name: 'contact-import', path: 'contacts/import', title: 'contactImport', icon: icon(Upload), access: 'admin', component: () => import('./views/contacts/ContactImportView.vue') },
    ],
  },
  {
    name: 'settings', path: 'settings', title: 'settings', icon: icon(Setting), access: 'admin',
    children: [
      { name: 'tags', path: 'settings/tags', title: 'tags', icon: icon(PriceTag), access: 'admin', component: () => import('./views/settings/TagsView.vue') },
      { name: 'custom-fields', path: 'settings/custom-fields', title: 'customFields', icon: icon(Files), access: 'admin', component: () => import('./views/settings/CustomFieldsView.vue') },
    ],
  },
  {
    name: 'pool', path: 'pool', title: 'pool', icon: icon(Coin), access: 'console',
    children: [
      { name: 'pool-customers', path: 'pool/customers', title: 'poolCustomers', icon: icon(Coin), access: 'claim_queue', component: () => import('./views/pool/PoolCustomersView.vue') },
      { name: 'claim-requests', path: 'pool/claim-requests', title: 'claimRequests', icon: icon(Checked), access: 'claim_queue', component: () => import('./views/pool/ClaimRequestsView.vue') },
      { name: 'pool-rules', path: 'pool/rules', title: 'poolRules', icon: icon(Operation), access: 'admin', component: () => import('./views/pool/PoolRulesView.vue') },
      { name: 'reclaims', path: 'pool/reclaims', title: 'reclaims', icon: icon(Warning), access: 'pool_watch', component: () => import('./views/pool/ReclaimsView.vue') },
      { name: 'pool-targets', path: 'pool/targets', title: 'poolTargets', icon: icon(Odometer), access: 'reports', component: () => import('./views/pool/PoolTargetsView.vue') },
    ],
  },
  {
    name: 'visits', path: 'visits', title: 'visits', icon: icon(Calendar), access: 'console',
    children: [
      { name: 'visit-records', path: 'visits/records', title: 'visitRecords', icon: icon(List), access: 'visit_records', component: () => import('./views/records/VisitRecordsView.vue') },
      { name: 'visit-review', path: 'visits/review', title: 'visitReview', icon: icon(Checked), access: 'review', component: () => import('./views/review/ReviewQueueView.vue') },
      { name: 'visit-plans', path: 'visits/plans', title: 'visitPlans', icon: icon(Memo), access: 'customers', component: () => import('./views/routes/VisitPlansView.vue') },
      { name: 'visit-routes', path: 'visits/routes', title: 'visitRoutes', icon: icon(Guide), access: 'customers', component: () => import('./views/routes/VisitRoutesView.vue') },
      { name: 'visit-settings', path: 'visits/settings', title: 'visitSettings', icon: icon(Setting), access: 'admin', component: () => import('./views/review/VisitSettingsView.vue') },
    ],
  },
  {
    name: 'reports', path: 'reports', title: 'reports', icon: icon(DataAnalysis), access: 'reports',
    children: [
      { name: 'report-employee-visits', path: 'reports/employee-visits', title: 'reportEmployeeVisits', icon: icon(TrendCharts), access: 'reports', component: () => import('./views/reports/EmployeeVisitsView.vue') },
      { name: 'report-customer-visits', path: 'reports/customer-visits', title: 'reportCustomerVisits', icon: icon(PieChart), access: 'reports', component: () => import('./views/reports/CustomerVisitsView.vue') },
      { name: 'report-coverage', path: 'reports/coverage', title: 'reportCoverage', icon: icon(Histogram), access: 'reports', component: () => import('./views/reports/CoverageView.vue') },
      { name: 'report-targets', path: 'reports/targets', title: 'reportTargets', icon: icon(Odometer), access: 'reports', component: () => import('./views/reports/TargetsView.vue') },
    ],
  },
  { name: 'customer-map', path: 'customer-map', title: 'customerMap', icon: icon(MapLocation), access: 'customers', component: () => import('./views/map/CustomerMapView.vue') },
  {
    name: 'notifications', path: 'notifications', title: 'notifications', icon: icon(Bell), access: 'console',
    children: [
      { name: 'inbox', path: 'notifications/inbox', title: 'inbox', icon: icon(Message), access: 'console', component: () => import('./views/notifications/InboxView.vue') },
      { name: 'preferences', path: 'notifications/preferences', title: 'preferences', icon: icon(Collection), access: 'console', component: () => import('./views/notifications/PreferencesView.vue') },
      { name: 'webhooks', path: 'notifications/webhooks', title: 'webhooks', icon: icon(Link), access: 'admin', component: () => import('./views/notifications/WebhooksView.vue') },
      { name: 'email-settings', path: 'notifications/email', title: 'emailSettings', icon: icon(Share), access: 'admin', component: () => import('./views/notifications/EmailSettingsView.vue') },
      { name: 'deliveries', path: 'notifications/deliveries', title: 'deliveries', icon: icon(Document), access: 'admin', component: () => import('./views/notifications/DeliveriesView.vue') },
      { name: 'dead-letters', path: 'notifications/dead-letters', title: 'deadLetters', icon: icon(Failed), access: 'admin', component: () => import('./views/notifications/DeadLettersView.vue') },
    ],
  },
]

/** The menu as this person may see it: entries their roles and grants allow, groups with at
 *  least one such entry (a group's own rule must hold too). */
export function visibleMenu(me: Me | null, menu: MenuEntry[] = MENU): MenuEntry[] {
  const out: MenuEntry[] = []
  for (const entry of menu) {
    if (entry.hidden || !allowed(me, entry.access)) continue
    if (entry.children) {
      const children = visibleMenu(me, entry.children)
      if (children.length) out.push({ ...entry, children })
    } else {
      out.push(entry)
    }
  }
  return out
}

/** Every screen (leaf) with the titles of the groups above it, for routes and breadcrumbs. */
export function screens(menu: MenuEntry[] = MENU, trail: string[] = []): { entry: MenuEntry; trail: string[]; groupAccess: Access[] }[] {
  const out: { entry: MenuEntry; trail: string[]; groupAccess: Access[] }[] = []
  const walk = (entries: MenuEntry[], t: string[], access: Access[]) => {
    for (const e of entries) {
      if (e.children) walk(e.children, [...t, e.title], [...access, e.access])
      else out.push({ entry: e, trail: t, groupAccess: access })
    }
  }
  walk(menu, trail, [])
  return out
}

/** May this person open this screen: its own rule and those of the groups it sits in. */
export function mayOpen(me: Me | null, access: Access, groupAccess: readonly Access[] = []): boolean {
  return allowed(me, access) && groupAccess.every((a) => allowed(me, a))
}

/** The first screen a person may open (where the console lands after sign-in). */
export function firstScreen(me: Me | null): string {
  const s = screens().find(({ entry, groupAccess }) => mayOpen(me, entry.access, groupAccess))
  return s ? s.entry.name : 'denied'
}
