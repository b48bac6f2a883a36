import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The web UI's build: static files in `dist/web/` that `onset up` serves at `/`. No framework plugin:
 * Vite's own transformer (Oxc) compiles the JSX for Preact, which keeps the build to a couple of seconds
 * and the dependency tree to Vite itself.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The server's content security policy allows scripts from this origin only: no inline polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `npm run dev:web` proxies the APIs to an `onset up` on ONSET_DEV_API (default 127.0.0.1:9696).
    proxy: Object.fromEntries(
      ['/api', '/ajax-api', '/predict', '/explain', '/model', '/ready', '/health', '/metrics', '/schema'].map(
        (path) => [path, process.env.ONSET_DEV_API ?? 'http://127.0.0.1:9696'],
      ),
    ),
  },
});
