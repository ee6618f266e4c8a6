/** Layer order (DESIGN.md): kernel <- layers <- app/cli. A layer is imported only through its index.ts. */
const layers = ['catalog', 'docs', 'search', 'scaffolder', 'git', 'pipelines', 'security', 'runtime', 'delivery', 'resources', 'policy', 'insights', 'intelligence'];
module.exports = {
  forbidden: [
    {
      name: 'kernel-imports-nothing-above-it',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: '^src/(?!kernel/)' },
    },
    {
      name: 'no-deep-imports-into-a-layer',
      comment: 'Another layer is used only through its index.ts.',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      // A worker thread's entry imports the kernel's worker side alone, not the whole kernel.
      to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/kernel/worker-pool\\.ts$'] },
    },
    {
      name: 'layers-do-not-import-app-or-cli',
      severity: 'error',
      from: { path: `^src/(kernel|${layers.join('|')})/` },
      to: { path: '^src/(app|main|serve)\\.ts$|^src/cli/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
