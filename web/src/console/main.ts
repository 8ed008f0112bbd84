// The PC console, served at /console/. A placeholder for now: the console issues (14, 15)
// build on this shell with Element Plus, the same API client, i18n set, error table and
// role rules (core/access.ts) as the mobile app.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { i18n } from '@/i18n'

createApp(App).use(createPinia()).use(i18n).mount('#app')
