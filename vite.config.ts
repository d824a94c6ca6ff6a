// Vite for the TuneLab page: lit needs no plugin; workers are ES modules (`new Worker(new URL(...), {type:'module'})`);
// WGSL comes in through `?raw` natively. vite-plugin-pwa writes a service worker that precaches the app shell and the
// demo assets in public/ (model + IMDB sample + tokenizer), so the page and its default study work with no network.
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** The demo model's safetensors is ~4 MB; Workbox's default precache limit is 2 MiB. */
const MAX_PRECACHE_BYTES = 16 * 1024 * 1024;

export default defineConfig({
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  plugins: [
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script-defer',
      manifest: {
        name: 'TuneLab',
        short_name: 'TuneLab',
        description: 'Tune a sentiment classifier on your own GPU, in the browser (WebGPU).',
        theme_color: '#1f4e79',
        background_color: '#f6f7f9',
        display: 'standalone',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,json,txt,gz,safetensors,wasm}'],
        maximumFileSizeToCacheInBytes: MAX_PRECACHE_BYTES,
        // Hub downloads go to IndexedDB through the app; the service worker never caches cross-origin traffic.
        navigateFallback: 'index.html',
        // Take over the first visit at once, so the shell is offline-ready without a second load.
        clientsClaim: true,
        skipWaiting: true,
      },
      // The dev server (tests, `npm start`) runs without a service worker: stale shells would hide code changes.
      devOptions: { enabled: false },
    }),
  ],
});
