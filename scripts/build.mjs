// `npm run build`: compile src/ to dist/ (the Lua scripts are read from lua/ at run time), then
// the web app (web/) into dist/public, which the API serves at `/`.
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { root, run } from './lib/services.mjs';

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  'tsconfig.build.json',
]);
// Always a production build: run from inside `npm test` (NODE_ENV=test) Vite would bundle
// React's development build, half as large again (212 KB gzip against 150).
run(
  process.execPath,
  [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--logLevel', 'warn'],
  { env: { ...process.env, NODE_ENV: 'production' } },
);
