// The pure pieces: the server command line built from settings and the UI text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverArgs } from '../src/serverArgs';
import { patchPreview, patchSummary, statusText } from '../src/format';

test('serverArgs: workspace only', () => {
  assert.deepEqual(serverArgs({ serverPath: 'cordon', workspace: '/w' }), ['serve', '--workspace', '/w']);
});

test('serverArgs: config file, writable roots and network become flags', () => {
  assert.deepEqual(
    serverArgs({ serverPath: 'cordon', workspace: '/w', configFile: '/c.toml', writableRoots: ['/a', '/b "q"'], network: true }),
    [
      'serve',
      '--workspace',
      '/w',
      '--config',
      '/c.toml',
      '-c',
      'sandbox_workspace_write.writable_roots=["/a","/b \\"q\\""]',
      '-c',
      'sandbox_workspace_write.network_access=true',
    ],
  );
});

test('statusText: all enforced', () => {
  const s = statusText({
    platform: 'linux',
    enforcement: { filesystem: 'enforced', network: 'enforced', resources: 'enforced', processTree: 'enforced' },
    policy: { sandbox_mode: 'workspace-write', network_access: false },
  });
  assert.equal(s.text, '$(shield) cordon: workspace-write fs✓ net✓ limits✓ tree✓');
  assert.equal(s.degraded, false);
  assert.match(s.tooltip, /network: off/);
});

test('statusText: degraded areas and their reasons', () => {
  const s = statusText({
    platform: 'linux',
    enforcement: {
      filesystem: { state: 'enforced' },
      network: 'enforced',
      resources: { state: 'degraded', reason: 'no cgroup controllers' },
      processTree: 'off',
    },
    policy: { sandboxMode: 'read-only' },
  });
  assert.equal(s.text, '$(warning) cordon: read-only fs✓ net✓ limits~ tree✗');
  assert.equal(s.degraded, true);
  assert.match(s.tooltip, /resources: degraded \(no cgroup controllers\)/);
});

test('patchPreview and patchSummary', () => {
  const dry = {
    applied: false,
    files: [
      { path: 'a.txt', action: 'update' as const, hunks: 2 },
      { path: 'b.txt', action: 'add' as const, hunks: 1 },
      { path: 'c.txt', action: 'move' as const, movedTo: 'd.txt', hunks: 1 },
    ],
  };
  const text = patchPreview(dry, '*** Begin Patch\n*** End Patch\n');
  assert.match(text, /3 files would change/);
  assert.match(text, /# update a\.txt, 2 hunks/);
  assert.match(text, /# add b\.txt$/m);
  assert.match(text, /# move c\.txt -> d\.txt, 1 hunk$/m);
  assert.match(text, /\*\*\* Begin Patch/);
  assert.equal(patchSummary(dry), '1 update, 1 add, 1 move');
});

test('statusText: the policy as cordon reports it, and a sandbox that failed to start', () => {
  const s = statusText({
    platform: 'linux',
    error: { kind: 'sandbox_failed', detail: 'worker connection closed' },
    policy: { mode: 'workspace-write', network: 'none' },
  });
  assert.equal(s.text, '$(warning) cordon: workspace-write fs? net? limits? tree?');
  assert.equal(s.degraded, true);
  assert.match(s.tooltip, /network: none/);
  assert.match(s.tooltip, /sandbox error: sandbox_failed: worker connection closed/);
});
