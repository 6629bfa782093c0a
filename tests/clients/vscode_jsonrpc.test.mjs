// vscode-jsonrpc, the library VS Code extensions use, drives cordon with Content-Length framing
// (LSP base protocol). This is the editor's path: framing auto-detection, $/cancelRequest with a
// -32800 reply, and the shutdown/exit lifecycle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  CancellationTokenSource,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from 'vscode-jsonrpc/node';
import { cordonBin, makeWorkspace, serveArgs } from './lib/server.mjs';
import { orSkip, skippable } from './lib/skip.mjs';
import { uniqueSleepArgv, waitForArgv } from './lib/procscan.mjs';

let workspace;
let child;
let exited;
let connection;
let stderr = '';

before(() => {
  workspace = makeWorkspace();
  child = spawn(cordonBin(), serveArgs(workspace.dir), { stdio: ['pipe', 'pipe', 'pipe'] });
  exited = once(child, 'exit');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-20000);
  });
  connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
});

after(() => {
  connection?.dispose();
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  workspace?.remove();
});

test('initialize over Content-Length framing', async () => {
  const result = await connection.sendRequest('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'cordon-vscode-jsonrpc-test', version: '0' },
  });
  assert.equal(result.serverInfo.name, 'cordon');
  assert.equal(result.protocolVersion, '2025-06-18', 'a supported version is echoed');
  assert.equal(result.capabilities.experimental?.cordon?.protocol, 1);
  await connection.sendNotification('notifications/initialized');
});

test('ping', async () => {
  assert.deepEqual(await connection.sendRequest('ping'), {});
});

test('sandbox/info', async () => {
  const info = await connection.sendRequest('sandbox/info', {});
  assert.equal(typeof info.platform, 'string');
  assert.ok(info.enforcement, 'enforcement');
  assert.ok(info.host, 'host');
  assert.ok(['v2', 'v1', 'none'].includes(info.host.cgroup), `host.cgroup: ${info.host.cgroup}`);
  assert.ok(info.policy, 'policy');
});

test('an unknown method is -32601', async () => {
  await assert.rejects(connection.sendRequest('no/such/method', {}), (err) => err.code === -32601);
});

test('$/cancelRequest ends a running exec with -32800 and kills it', skippable(async (t) => {
  const argv = uniqueSleepArgv(1000);
  const source = new CancellationTokenSource();
  const call = connection.sendRequest('exec', { argv }, source.token);
  call.catch(() => {});
  // Wait for the command to run (or for the server to say it has no exec).
  const seen = waitForArgv(argv, (pids) => pids.length > 0, 15000);
  const first = await Promise.race([seen.then(() => 'running'), call.then(() => 'replied', (e) => e)]);
  if (first !== 'running') await orSkip(t, 'exec', () => call);
  assert.ok((await seen).length > 0, `${argv.join(' ')} never appeared in /proc; stderr:\n${stderr}`);
  source.cancel(); // sends $/cancelRequest; vscode-jsonrpc still waits for the reply
  await assert.rejects(call, (err) => err.code === -32800);
  const left = await waitForArgv(argv, (pids) => pids.length === 0, 10000);
  assert.deepEqual(left, [], `still running after cancel: ${left}`);
}));

test('shutdown then exit ends the server with status 0', skippable(async (t) => {
  const result = await orSkip(t, 'shutdown', () => connection.sendRequest('shutdown'));
  assert.equal(result, null);
  await connection.sendNotification('exit');
  const [code, signal] = await Promise.race([
    exited,
    new Promise((_, reject) => setTimeout(() => reject(new Error('server did not exit after exit')), 5000)),
  ]);
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
}));
