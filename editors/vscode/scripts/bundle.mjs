// Bundles the extension with its one runtime dependency (vscode-jsonrpc) into dist/extension.js,
// so the .vsix is packaged with --no-dependencies and needs nothing from the network to install.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode'],
  outfile: 'dist/extension.js',
  logLevel: 'warning',
});
