// `npm run build`: compile src/ to dist/ (the Lua scripts are read from lua/ at run time).
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { root, run } from './lib/services.mjs';

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  'tsconfig.build.json',
]);
