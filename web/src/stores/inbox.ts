// The unread badge on the tab bar: asked on start, every 30 s while the app is visible, and
// after anything that may change it.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { unreadCount } from '@/api/notify'

export const useInbox = defineStore('inbox', () => {
  const unread = ref(0)
  let timer: ReturnType<typeof setInterval> | null = null

  async function refresh(): Promise<void> {
    try {
      unread.value = (await unreadCount()).unread
    } catch {
      /* the badge keeps its last value */
    }
  }

  function start(): void {
    void refresh()
    if (timer) return
    timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh()
    }, 30000)
  }

  function stop(): void {
    if (timer) clearInterval(timer)
    timer = null
    unread.value = 0
  }

  return { unread, refresh, start, stop }
})
