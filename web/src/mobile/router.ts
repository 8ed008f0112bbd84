import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { guard, type Access } from '@/core/access'
import { useAuth } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    access?: Access
    tab?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/calendar' },
  { path: '/login', name: 'login', component: () => import('@/views/auth/LoginView.vue'), meta: { access: 'public' } },
  { path: '/join/:id', name: 'join', component: () => import('@/views/auth/JoinView.vue'), props: true, meta: { access: 'public' } },
  { path: '/denied', name: 'denied', component: () => import('@/views/common/DeniedView.vue'), meta: { access: 'public' } },
  { path: '/calendar', name: 'calendar', component: () => import('@/views/visits/CalendarView.vue'), meta: { tab: true } },
  { path: '/visits/new', name: 'plan', component: () => import('@/views/visits/PlanView.vue') },
  { path: '/visits/:id', name: 'visit', component: () => import('@/views/visits/VisitDetailView.vue'), props: true },
  { path: '/customers', name: 'customers', component: () => import('@/views/customers/CustomerListView.vue'), meta: { tab: true } },
  { path: '/customers/new', name: 'customer-new', component: () => import('@/views/customers/CustomerEntryView.vue') },
  { path: '/customers/:id', name: 'customer', component: () => import('@/views/customers/CustomerDetailView.vue'), props: true },
  { path: '/pool', name: 'pool', component: () => import('@/views/pool/PoolView.vue'), meta: { tab: true } },
  { path: '/pool/request', name: 'claim-request', component: () => import('@/views/pool/ClaimRequestView.vue') },
  { path: '/contacts', name: 'contacts', component: () => import('@/views/contacts/ContactsView.vue'), meta: { tab: true } },
  { path: '/inbox', name: 'inbox', component: () => import('@/views/inbox/InboxView.vue'), meta: { tab: true } },
  { path: '/:rest(.*)*', redirect: '/calendar' },
]

export const router = createRouter({ history: createWebHistory('/m/'), routes })

router.beforeEach(async (to) => {
  const auth = useAuth()
  if (to.meta.access !== 'public' && !auth.me) await auth.resume()
  const target = guard(auth.me, to.meta.access ?? 'field')
  if (target === null) return true
  if (target === 'login') return { name: 'login', query: to.fullPath !== '/calendar' ? { next: to.fullPath } : {} }
  return { name: target }
})
