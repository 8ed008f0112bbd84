// The console's routes, built from the menu registry (menu.ts), with guards from the same
// role rules (core/access.ts) the side menu uses. History mode under /console/.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { guard, type Access } from '@/core/access'
import { useAuth } from '@/stores/auth'
import { MENU, screens, mayOpen, firstScreen, type MenuEntry } from './menu'

declare module 'vue-router' {
  interface RouteMeta {
    access?: Access
    /** the console: rules of the menu groups the screen sits in */
    groupAccess?: Access[]
    /** the console: i18n keys of the breadcrumb trail, the screen last */
    crumbs?: string[]
    soon?: boolean
  }
}

export function screenRoutes(menu: MenuEntry[] = MENU): RouteRecordRaw[] {
  return screens(menu).map(({ entry, trail, groupAccess }) => ({
    path: entry.path,
    name: entry.name,
    component: entry.component ?? (() => import('./views/common/ComingSoonView.vue')),
    meta: { access: entry.access, groupAccess, crumbs: [...trail, entry.title].map((k) => `console.shell.menu.${k}`), soon: entry.soon },
  }))
}

/** Screens that are not menu entries (a detail page, sign-in, refusals). */
const extra: RouteRecordRaw[] = [
  { path: 'denied', name: 'denied', component: () => import('./views/common/DeniedView.vue'), meta: { access: 'console', crumbs: ['console.shell.denied.title'] } },
]

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/auth/LoginView.vue'), meta: { access: 'public' } },
  {
    path: '/',
    component: () => import('./layout/ConsoleLayout.vue'),
    children: [...screenRoutes(), ...extra],
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/common/NotFoundView.vue'), meta: { access: 'console' } },
]

export const router = createRouter({ history: createWebHistory('/console/'), routes })

router.beforeEach(async (to) => {
  const auth = useAuth()
  const access = to.meta.access ?? 'console'
  if (access === 'public') return true
  if (!auth.me) await auth.resume()
  if (!auth.me) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.name === 'denied') return true
  if (guard(auth.me, access) === null && mayOpen(auth.me, access, to.meta.groupAccess)) return true
  return { name: 'denied', query: { from: to.fullPath } }
})

export { firstScreen }
