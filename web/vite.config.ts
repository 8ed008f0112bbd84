/// <reference types="vitest/config" />
// One Vite project, two shells: the mobile app (/m/, Vant) and the PC console (/console/).
import { fileURLToPath, URL } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000'

/** Vant's icon font is embedded as a data: URL with a remote fallback on a CDN; the app loads
 *  nothing from other hosts (and its CSP refuses them), so the fallback is dropped. */
const noRemoteFonts: Plugin = {
  name: 'crm-no-remote-fonts',
  enforce: 'pre',
  transform(code, id) {
    if (!/vant\/(es|lib)\/icon\/index\.css$/.test(id)) return null
    return code.replace(/,\s*url\((?:https?:)?\/\/[^)]+\)\s*format\("woff"\)/g, '')
  },
}

export default defineConfig({
  base: '/',
  plugins: [
    noRemoteFonts,
    vue(),
    // Vant (mobile) and Element Plus (console) components and their CSS imported per use:
    // each shell's entry carries only what its screens use
    Components({ resolvers: [VantResolver(), ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // no inline <script> or data: modules: the gateway's CSP is script-src 'self'
    assetsInlineLimit: 0,
    // the budget test (tests/browser/test_web_build.py) walks this from the mobile entry
    manifest: true,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        m: fileURLToPath(new URL('./m/index.html', import.meta.url)),
        console: fileURLToPath(new URL('./console/index.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: { '/api': gateway, '/healthz': gateway },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
})
