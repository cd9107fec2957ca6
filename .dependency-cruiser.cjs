// Which folder of src/ may import which: the layers of scripts/lib/module-layers.cjs as
// dependency-cruiser rules, and no cycle between files. `npm test`'s static tier runs
// `depcruise` with them (`npm run deps`).
const { LAYERS } = require('./scripts/lib/module-layers.cjs');

const folders = (names) => `^src/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle between files: neither can be understood, or tested, without the other.',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  allowed: [
    // Packages and Node's own modules.
    { from: {}, to: { dependencyTypesNot: ['local', 'localmodule', 'aliased'] } },
    // The composition files at the top of src/.
    { from: { path: '^src/[^/]+$' }, to: { path: '^src/' } },
    // Anything within its own folder.
    { from: { path: '^src/([^/]+)/' }, to: { path: '^src/$1/' } },
    // A folder's layers.
    ...Object.entries(LAYERS)
      .filter(([, below]) => below.length > 0)
      .map(([folder, below]) => ({
        from: { path: `^src/${folder}/` },
        to: { path: folders(below) },
      })),
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
