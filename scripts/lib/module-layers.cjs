// The layers of src/ (issue 24), lowest first: each folder and the folders it may import. A
// folder imports its own files and the folders listed for it, nothing else; the files at the
// top of src/ (main.ts, app.module.ts, app.factory.ts) compose everything. Read by
// .dependency-cruiser.cjs (the rules `npm test` enforces) and src/module-boundaries.spec.ts
// (no cycle here, docs/architecture.md's module table says the same, and the imports that
// break the layers today are exactly those in .dependency-cruiser-known-violations.json: each
// a move still to make, none to be added).
/** @type {Record<string, string[]>} */
const LAYERS = {
  // The password rules: pure, so configuration (ADMIN_PASSWORD) and auth both hold to them.
  passwords: [],
  config: ['passwords'],
  telemetry: ['config'],
  database: ['config', 'telemetry'],
  redis: ['config', 'telemetry'],
  common: ['config', 'database', 'telemetry'],
  'rate-limit': ['common', 'config', 'redis'],
  users: ['common', 'config', 'database'],
  auth: ['common', 'config', 'database', 'passwords', 'rate-limit', 'redis', 'users'],
  stock: ['config', 'database', 'redis'],
  goods: ['auth', 'common', 'config', 'database', 'redis', 'stock', 'users'],
  booking: [
    'auth',
    'common',
    'config',
    'database',
    'goods',
    'redis',
    'stock',
    'telemetry',
    'users',
  ],
  realtime: ['auth', 'booking', 'common', 'config', 'goods', 'redis', 'stock'],
  // The operations surface: health, readiness, /metrics, the ops summary, the server clock.
  health: ['auth', 'booking', 'common', 'config', 'redis', 'telemetry', 'users'],
  web: ['common'],
};

module.exports = { LAYERS };
