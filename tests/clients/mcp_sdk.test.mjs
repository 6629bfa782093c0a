// The official MCP TypeScript SDK client against `cordon serve` over NDJSON stdio: the same path
// an MCP agent takes. The SDK validates every reply against its schemas (including a tool's
// outputSchema), so a malformed answer fails here even when the values look right.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cordonBin, makeWorkspace, serveArgs } from './lib/server.mjs';
import { orSkip, skippable, skipWith } from './lib/skip.mjs';
import { uniqueSleepArgv, waitForArgv } from './lib/procscan.mjs';

let workspace;
let client;
let transport;
let stderr = '';
let tools = [];

before(async () => {
  workspace = makeWorkspace();
  transport = new StdioClientTransport({ command: cordonBin(), args: serveArgs(workspace.dir), stderr: 'pipe' });
  transport.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-20000);
  });
  client = new Client({ name: 'cordon-sdk-test', version: '0' }, { capabilities: {} });
  await client.connect(transport);
  for (let cursor; ; ) {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
});

after(async () => {
  await client?.close();
  workspace?.remove();
});

// Tools appear in tools/list only once they work, so an absent tool is a skip, not a failure.
function needTool(t, name) {
  if (tools.some((tool) => tool.name === name)) return true;
  skipWith(t, `server does not offer the ${name} tool yet`);
  return false;
}

function text(result) {
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

test('initialize identifies cordon and its capabilities', () => {
  assert.equal(client.getServerVersion().name, 'cordon');
  const caps = client.getServerCapabilities();
  assert.ok(caps.tools, 'tools capability');
  assert.ok(caps.logging, 'logging capability');
  assert.equal(caps.experimental?.cordon?.protocol, 1);
});

test('tools/list: every tool is described and has object schemas', () => {
  assert.ok(tools.some((t) => t.name === 'sandbox_info'), `tools: ${tools.map((t) => t.name)}`);
  for (const tool of tools) {
    assert.ok(tool.description, `${tool.name} has a description`);
    assert.equal(tool.inputSchema.type, 'object', `${tool.name} inputSchema`);
    if (tool.outputSchema) assert.equal(tool.outputSchema.type, 'object', `${tool.name} outputSchema`);
  }
});

test('sandbox_info tool reports what is enforced', async () => {
  const result = await client.callTool({ name: 'sandbox_info', arguments: {} });
  assert.notEqual(result.isError, true, text(result));
  assert.ok(text(result).length > 0, 'a text block for the model');
  const info = result.structuredContent;
  assert.ok(info, 'structuredContent');
  assert.equal(typeof info.platform, 'string');
  for (const key of ['filesystem', 'network', 'resources', 'processTree']) {
    const value = info.enforcement?.[key];
    const state = typeof value === 'string' ? value : value?.state ?? value?.status;
    assert.ok(['enforced', 'degraded', 'off'].includes(state) || typeof value === 'object', `enforcement.${key}: ${JSON.stringify(value)}`);
  }
});

test('ping', async () => {
  assert.deepEqual(await client.ping(), {});
});

test('logging/setLevel', skippable(async (t) => {
  const result = await orSkip(t, 'logging/setLevel', () => client.setLoggingLevel('debug'));
  assert.deepEqual(result, {});
  await client.setLoggingLevel('warning');
}));

test('exec: echo hello', async (t) => {
  if (!needTool(t, 'exec')) return;
  const result = await client.callTool({ name: 'exec', arguments: { command: 'echo hello' } });
  assert.notEqual(result.isError, true, text(result));
  assert.match(text(result), /hello/);
  const out = result.structuredContent;
  assert.ok(out, 'structuredContent');
  assert.equal(out.stdout, 'hello\n');
  // The process result is either nested (as in the native exec reply) or spread alongside stdout.
  const status = out.result ?? out;
  assert.equal(status.status, 'exited');
  assert.equal(status.exitCode, 0);
});

test('exec: a non-zero exit is a result, not a tool error', async (t) => {
  if (!needTool(t, 'exec')) return;
  const result = await client.callTool({ name: 'exec', arguments: { argv: ['sh', '-c', 'echo oops >&2; exit 3'] } });
  assert.notEqual(result.isError, true, text(result));
  assert.equal((result.structuredContent.result ?? result.structuredContent).exitCode, 3);
  assert.equal(result.structuredContent.stderr, 'oops\n');
});

test('exec: cancelling through AbortSignal kills the command', async (t) => {
  if (!needTool(t, 'exec')) return;
  const argv = uniqueSleepArgv(1000);
  const abort = new AbortController();
  const call = client.callTool({ name: 'exec', arguments: { argv } }, undefined, { signal: abort.signal, timeout: 60000 });
  call.catch(() => {}); // observed below
  // Positive control: the command must be seen running, or the final scan would prove nothing.
  const running = await waitForArgv(argv, (pids) => pids.length > 0, 15000);
  assert.ok(running.length > 0, `${argv.join(' ')} never appeared in /proc; stderr:\n${stderr}`);
  abort.abort('test cancels');
  await assert.rejects(call);
  const left = await waitForArgv(argv, (pids) => pids.length === 0, 10000);
  assert.deepEqual(left, [], `still running after cancel: ${left}`);
  // The connection stays usable after a cancel.
  assert.deepEqual(await client.ping(), {});
});

test('apply_patch: a Codex patch changes exactly the files it names', async (t) => {
  if (!needTool(t, 'apply_patch')) return;
  const dir = path.join(workspace.dir, 'patch-case');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'keep.txt'), 'untouched\n');
  writeFileSync(path.join(dir, 'edit.txt'), 'one\ntwo\nthree\n');
  writeFileSync(path.join(dir, 'gone.txt'), 'bye\n');
  const patch = [
    '*** Begin Patch',
    '*** Update File: patch-case/edit.txt',
    '@@',
    ' one',
    '-two',
    '+TWO',
    ' three',
    '*** Add File: patch-case/new.txt',
    '+fresh',
    '*** Delete File: patch-case/gone.txt',
    '*** End Patch',
  ].join('\n') + '\n';
  const result = await client.callTool({ name: 'apply_patch', arguments: { patch } });
  assert.notEqual(result.isError, true, text(result));
  assert.deepEqual(snapshot(dir), {
    'edit.txt': 'one\nTWO\nthree\n',
    'keep.txt': 'untouched\n',
    'new.txt': 'fresh\n',
  });
});

test('apply_patch: a hunk that does not match changes nothing and is a tool error', async (t) => {
  if (!needTool(t, 'apply_patch')) return;
  const dir = path.join(workspace.dir, 'patch-fail');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, 'b.txt'), 'beta\n');
  const before = snapshot(dir);
  const patch = [
    '*** Begin Patch',
    '*** Update File: patch-fail/a.txt',
    '@@',
    '-alpha',
    '+ALPHA',
    '*** Update File: patch-fail/b.txt',
    '@@',
    '-not what is there',
    '+x',
    '*** End Patch',
  ].join('\n') + '\n';
  const result = await client.callTool({ name: 'apply_patch', arguments: { patch } });
  assert.equal(result.isError, true);
  assert.match(text(result), /b\.txt/, 'the error names the file');
  assert.deepEqual(snapshot(dir), before);
});

test('read_file: numbered lines and a range trailer', async (t) => {
  if (!needTool(t, 'read_file')) return;
  writeFileSync(path.join(workspace.dir, 'notes.txt'), 'alpha\nbeta\ngamma\n');
  const result = await client.callTool({ name: 'read_file', arguments: { path: 'notes.txt' } });
  assert.notEqual(result.isError, true, text(result));
  const body = text(result);
  for (const word of ['alpha', 'beta', 'gamma']) assert.match(body, new RegExp(word));
  assert.match(body, /lines 1-3 of 3/);

  const part = await client.callTool({ name: 'read_file', arguments: { path: 'notes.txt', offset: 2, limit: 1 } });
  assert.match(text(part), /beta/);
  assert.doesNotMatch(text(part), /alpha|gamma/);

  const missing = await client.callTool({ name: 'read_file', arguments: { path: 'no-such-file.txt' } });
  assert.equal(missing.isError, true);
});

test('closing stdin ends the server without a signal', async () => {
  // Runs last. The SDK ends stdin, waits 2 s, then escalates to SIGTERM: a close that takes that
  // long means the server ignored EOF.
  const started = Date.now();
  await client.close();
  client = undefined;
  const took = Date.now() - started;
  assert.ok(took < 1900, `server needed ${took} ms to exit after stdin closed`);
});

function snapshot(dir) {
  const files = {};
  for (const name of readdirSync(dir).sort()) files[name] = readFileSync(path.join(dir, name), 'utf8');
  return files;
}
