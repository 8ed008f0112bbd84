// The signed-in person (both shells). The access token itself lives in api/client.ts (memory).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import * as identity from '@/api/identity'
import { hasAccessToken, setSessionLostHandler } from '@/api/client'
import type { Me } from '@/core/access'

export const useAuth = defineStore('auth', () => {
  const me = ref<(Me & identity.Employee) | null>(null)
  const resumed = ref(false)

  async function loadMe(): Promise<void> {
    me.value = (await identity.me()) as Me & identity.Employee
  }

  /** Once per page load: a bound device signs in from its cookie, without a password. */
  async function resume(): Promise<boolean> {
    if (resumed.value) return me.value !== null
    resumed.value = true
    if (!hasAccessToken() && !(await identity.resume())) return false
    try {
      await loadMe()
      return true
    } catch {
      me.value = null
      return false
    }
  }

  async function login(input: identity.LoginInput): Promise<void> {
    await identity.login(input)
    resumed.value = true
    await loadMe()
  }

  async function logout(): Promise<void> {
    try {
      await identity.logout()
    } finally {
      me.value = null
    }
  }

  function lost(): void {
    me.value = null
  }

  setSessionLostHandler(lost)
  return { me, login, logout, resume, loadMe, lost }
})
