/**
 * dependency-cruiser's reading of the import graph, for test/architecture.cycles.test.ts: no module
 * may import itself through others, and no folder may depend on a folder that depends back on it.
 * Type-only imports count (tsPreCompilationDeps): they tie folders together as much as any other.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders that depend on each other, directly or through others.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Generated and built code.
    exclude: { path: '^(\\.mesh|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
