// The sign-in form of both shells: the same fields, modes (现在绑定 keeps this browser signed in
// through the device cookie, 普通登录 asks again next time), checks and refusal messages; each
// shell says which accounts it admits and where a signed-in user goes.
import { reactive, ref } from 'vue'
import { useRoute, useRouter, type RouteLocationRaw } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { useAuth } from '@/stores/auth'
import type { Me } from '@/core/access'
import { errorText } from '@/core/useErrorText'
import { currentLocale, setLocale } from '@/i18n'

export interface SignInRules {
  /** the refusal shown (after signing out again) when this shell does not admit the account */
  refuse: (me: Me | null) => string | null
  /** where to go when the URL names no safe `next` */
  home: (me: Me | null) => RouteLocationRaw
}

/** A `next` path of this app only (`/x`, never `//host` or an absolute URL). */
export function safeNext(next: unknown): string | null {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : null
}

export function useSignIn(rules: SignInRules) {
  const { t } = useI18n()
  const auth = useAuth()
  const router = useRouter()
  const route = useRoute()
  const form = reactive({ tenant_code: '', mobile: '', password: '', mode: 'bind' as 'bind' | 'plain' })
  const error = ref('')
  const busy = ref(false)

  async function submit(): Promise<void> {
    error.value = ''
    for (const [field, label] of [['tenant_code', 'tenantCode'], ['mobile', 'mobile'], ['password', 'password']] as const) {
      if (!form[field].trim()) {
        error.value = t('auth.required', { field: t(`auth.${label}`) })
        return
      }
    }
    busy.value = true
    try {
      await auth.login({ tenant_code: form.tenant_code.trim(), mobile: form.mobile.trim(), password: form.password, bind_device: form.mode === 'bind' })
      const refused = rules.refuse(auth.me)
      if (refused) {
        await auth.logout()
        error.value = refused
        return
      }
      await router.replace(safeNext(route.query.next) ?? rules.home(auth.me))
    } catch (err) {
      error.value = errorText(err)
    } finally {
      busy.value = false
    }
  }

  function toggleLanguage(): void {
    setLocale(currentLocale() === 'en' ? 'zh-CN' : 'en')
  }

  return { t, form, error, busy, submit, toggleLanguage }
}
