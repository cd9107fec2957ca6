import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/** Component and logic tests of the web app (in `npm test`, tier "web"). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Beside the project's other caches, not in web/ (whose files are the build's sources).
  cacheDir: fileURLToPath(new URL('../node_modules/.vite/web', import.meta.url)),
  plugins: [react()],
  test: {
    environment: 'jsdom',
    // Pages call the API by path (/api/...): they need an origin to resolve against.
    environmentOptions: { jsdom: { url: 'http://localhost:3000/' } },
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
