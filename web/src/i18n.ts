// One i18n set for both shells: zh-CN (default) and en, one file per area.
import { createI18n } from 'vue-i18n'
import zhCommon from './locales/zh-CN/common.json'
import zhAuth from './locales/zh-CN/auth.json'
import zhVisits from './locales/zh-CN/visits.json'
import zhCustomers from './locales/zh-CN/customers.json'
import zhPool from './locales/zh-CN/pool.json'
import zhContacts from './locales/zh-CN/contacts.json'
import zhInbox from './locales/zh-CN/inbox.json'
import enCommon from './locales/en/common.json'
import enAuth from './locales/en/auth.json'
import enVisits from './locales/en/visits.json'
import enCustomers from './locales/en/customers.json'
import enPool from './locales/en/pool.json'
import enContacts from './locales/en/contacts.json'
import enInbox from './locales/en/inbox.json'
import type { Locale } from './core/errors'

export const messages = {
  'zh-CN': { common: zhCommon, auth: zhAuth, visits: zhVisits, customers: zhCustomers, pool: zhPool, contacts: zhContacts, inbox: zhInbox },
  en: { common: enCommon, auth: enAuth, visits: enVisits, customers: enCustomers, pool: enPool, contacts: enContacts, inbox: enInbox },
}

const LOCALE_KEY = 'crm.locale' // a preference, not a secret

export function initialLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(LOCALE_KEY) : null
  return saved === 'en' ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(LOCALE_KEY, locale)
  document.documentElement.lang = locale
}
