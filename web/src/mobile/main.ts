// The mobile app for sales people, served at /m/.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import App from './App.vue'
import { router } from './router'
import { i18n } from '@/i18n'
import './mobile.css'

createApp(App).use(createPinia()).use(i18n).use(router).mount('#app')
