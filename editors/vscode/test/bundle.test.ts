// The packaged extension is dist/extension.js alone (the .vsix carries no node_modules): load a
// copy of it from a directory with no node_modules anywhere above, so a dependency the bundle
// forgot to include fails here instead of in the user's editor.
import './fake/install';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bundle = path.join(__dirname, '../../dist/extension.js');

test('the bundle loads without node_modules and exports activate/deactivate', (t) => {
  if (!existsSync(bundle)) return t.skip('dist/extension.js not built (npm run build)');
  const dir = mkdtempSync(path.join(tmpdir(), 'cordon-vsix-'));
  try {
    const copy = path.join(dir, 'extension.js');
    copyFileSync(bundle, copy);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(copy) as { activate?: unknown; deactivate?: unknown };
    assert.equal(typeof loaded.activate, 'function');
    assert.equal(typeof loaded.deactivate, 'function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
