// The PC console, served at /console/: Element Plus (auto-imported per component, see
// vite.config.ts), the same API client, auth store, role rules, error table and i18n set as
// the mobile app. Screens come from one registry (menu.ts).
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import App from './App.vue'
import { router } from './router'
import { i18n } from '@/i18n'
import { installConsoleMessages } from './i18n'
import './console.css'

installConsoleMessages()
document.documentElement.lang = i18n.global.locale.value
createApp(App).use(createPinia()).use(i18n).use(router).mount('#app')
