// The extension's client layer under plain Node against the real `cordon serve`: startup,
// sandbox/info, a pty process, restart after a crash, patch dry run, and stopping cleanly.
import { test, before, after, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClientState, CordonClient, isMethodMissing } from '../src/client';
import { ProcessEvent } from '../src/protocol';
import { cordonBin, isAlive, makeWorkspace, waitFor } from './server';

let workspace: ReturnType<typeof makeWorkspace>;
let client: CordonClient;
const states: ClientState[] = [];

before(async () => {
  workspace = makeWorkspace();
  client = new CordonClient({
    serverPath: cordonBin(),
    workspace: workspace.dir,
    restart: { maxRestarts: 3, windowMs: 60_000, delayMs: 100 },
  });
  client.onState((s) => void states.push(s));
  await client.start();
});

after(async () => {
  await client?.stop();
  workspace?.remove();
});

// A -32601 reply means the server does not have that method yet: skip, saying so.
function skipIfMissing(t: TestContext, what: string, err: unknown): void {
  if (!isMethodMissing(err)) throw err;
  t.skip(`server answers ${what} with -32601`);
}

test('start: initialize over Content-Length framing', () => {
  assert.equal(client.state, 'running');
  assert.equal(client.serverInfo?.serverInfo.name, 'cordon');
  assert.deepEqual(states.slice(0, 2), ['starting', 'running']);
});

test('sandboxInfo', async () => {
  const info = await client.sandboxInfo();
  assert.equal(typeof info.platform, 'string');
  assert.ok(info.enforcement);
});

test('a pty process streams output and takes input', async (t) => {
  const events: ProcessEvent[] = [];
  let started;
  try {
    started = await client.startProcess(
      { argv: ['sh', '-c', 'read line; echo "got:$line"; exit 4'], tty: true, cols: 80, rows: 24 },
      (e) => void events.push(e),
    );
  } catch (err) {
    return skipIfMissing(t, 'process/start', err);
  }
  await client.writeProcess(started.processId, 'hello\n');
  await waitFor(() => events.some((e) => e.kind === 'closed'), 20000, 'process/closed');
  const text = Buffer.concat(events.flatMap((e) => (e.kind === 'output' ? [e.data] : []))).toString('utf8');
  assert.match(text, /got:hello/);
  const exited = events.find((e) => e.kind === 'exited');
  assert.ok(exited && exited.kind === 'exited');
  assert.equal(exited.result.exitCode, 4);
  assert.equal(events.at(-1)?.kind, 'closed');
});

test('patch/apply dry run changes nothing, then apply does', async (t) => {
  const file = path.join(workspace.dir, 'greeting.txt');
  writeFileSync(file, 'hello\nworld\n');
  const patch = ['*** Begin Patch', '*** Update File: greeting.txt', '@@', ' hello', '-world', '+cordon', '*** End Patch', ''].join('\n');
  let dry;
  try {
    dry = await client.applyPatch(patch, true);
  } catch (err) {
    return skipIfMissing(t, 'patch/apply', err);
  }
  assert.deepEqual(
    dry.files.map((f) => [f.path.replace(`${workspace.dir}/`, ''), f.action]),
    [['greeting.txt', 'update']],
  );
  assert.equal(readFileSync(file, 'utf8'), 'hello\nworld\n', 'a dry run writes nothing');
  const done = await client.applyPatch(patch, false);
  assert.equal(done.applied, true);
  assert.equal(readFileSync(file, 'utf8'), 'hello\ncordon\n');
});

test('the server is restarted after it dies, and running processes are reported lost', async (t) => {
  const oldPid = client.pid!;
  const events: ProcessEvent[] = [];
  let haveProcess = true;
  try {
    await client.startProcess({ argv: ['sleep', '30'] }, (e) => void events.push(e));
  } catch (err) {
    if (!isMethodMissing(err)) throw err;
    haveProcess = false;
  }
  process.kill(oldPid, 'SIGKILL');
  await waitFor(() => client.state === 'running' && client.pid !== oldPid && client.pid, 15000, 'a restarted server');
  assert.ok(states.includes('restarting'));
  assert.equal((await client.sandboxInfo()).platform.length > 0, true, 'the new server answers');
  if (haveProcess) assert.equal(events.at(-1)?.kind, 'lost');
  else t.diagnostic('process/start missing: lost-process reporting not checked');
});

test('stop: shutdown/exit and the server is gone', async () => {
  const pid = client.pid!;
  await client.stop();
  assert.equal(client.state, 'stopped');
  assert.equal(isAlive(pid), false);
});

test('a server that cannot start leaves the client failed with the reason', async () => {
  const broken = new CordonClient({ serverPath: path.join(workspace.dir, 'no-such-cordon'), workspace: workspace.dir });
  await assert.rejects(broken.start(), /cannot start .*no-such-cordon/);
  assert.equal(broken.state, 'failed');
});
