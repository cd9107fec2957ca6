import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { compression } from 'vite-plugin-compression2';

/**
 * The web app, built into dist/public, which the API serves at `/` (src/web/web-app.ts).
 * Brotli and gzip copies are made here, once, so the service never compresses per request.
 * `npx vite web` serves it with hot reload against an API on :3000.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Beside the project's other caches, not in web/ (whose files are the build's sources).
  cacheDir: fileURLToPath(new URL('../node_modules/.vite/web', import.meta.url)),
  plugins: [
    react(),
    compression({ algorithms: ['brotliCompress', 'gzip'], exclude: [/\.(png|jpe?g|webp)$/] }),
  ],
  build: {
    outDir: '../dist/public',
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/health': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
    },
  },
});
