/**
 * The import graph's rules, checked in CI (`npm run lint:deps`). Folder cycles make a codebase that
 * cannot be read in layers: evidence must not import render that imports evidence, and so on.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'A folder may not import, directly or through others, a folder that imports it.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'No module may import itself through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-is-the-core',
      comment: 'lib/ never imports the edges (cli/, functions/, infra/), the sample generators or the tests.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(cli|functions|infra|test|bench|sample|scripts)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
