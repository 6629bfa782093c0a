// A raw scripted client checks the per-process notification contract of PROTOCOL.md section 5 with
// several processes running at once: process/output* then process/exited then process/closed,
// seq strictly increasing, nothing after closed, and every byte delivered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient } from './lib/raw_client.mjs';
import { cordonBin, makeWorkspace, serveArgs } from './lib/server.mjs';
import { orSkip, skippable } from './lib/skip.mjs';

let workspace;
let client;

before(async () => {
  workspace = makeWorkspace();
  client = new RawClient(cordonBin(), serveArgs(workspace.dir));
  await client.initialize();
});

after(async () => {
  if (client) await client.close();
  workspace?.remove();
});

const PROCESS_EVENTS = new Set(['process/output', 'process/exited', 'process/closed']);

function eventsOf(processId) {
  return client.messages.filter((m) => PROCESS_EVENTS.has(m.method) && m.params?.processId === processId);
}

function decode(events, stream) {
  return Buffer.concat(
    events.filter((e) => e.method === 'process/output' && e.params.stream === stream).map((e) => Buffer.from(e.params.data, 'base64')),
  ).toString('utf8');
}

test('concurrent processes: output, then exited, then closed, seq increasing', skippable(async (t) => {
  const count = 4;
  const lines = 200;
  const specs = Array.from({ length: count }, (_, i) => ({
    processId: `order-${i}`,
    // Interleaves stdout and stderr and ends with a distinct exit code per process.
    command: `i=0; while [ $i -lt ${lines} ]; do echo "p${i} out $i"; echo "p${i} err $i" >&2; i=$((i+1)); done; exit ${i + 1}`,
  }));
  const first = await orSkip(t, 'process/start', () => client.call('process/start', specs[0]));
  const started = [first, ...(await Promise.all(specs.slice(1).map((s) => client.call('process/start', s))))];
  started.forEach((r, i) => {
    assert.equal(r.processId, specs[i].processId);
    assert.ok(Number.isInteger(r.pid), `pid: ${r.pid}`);
  });

  const allClosed = (msgs) => specs.every((s) => msgs.some((m) => m.method === 'process/closed' && m.params?.processId === s.processId));
  await client.waitUntil(allClosed, 60000, 'process/closed for every process');
  await sleep(300); // anything sent after closed would arrive in this window

  specs.forEach((spec, i) => {
    const events = eventsOf(spec.processId);
    const kinds = events.map((e) => e.method);
    const exitedAt = kinds.indexOf('process/exited');
    assert.ok(exitedAt >= 0, `${spec.processId}: no process/exited`);
    assert.equal(kinds.lastIndexOf('process/exited'), exitedAt, `${spec.processId}: one process/exited`);
    assert.equal(kinds.at(-1), 'process/closed', `${spec.processId}: closed is the last event`);
    assert.equal(kinds.filter((k) => k === 'process/closed').length, 1, `${spec.processId}: one process/closed`);
    assert.ok(kinds.slice(0, exitedAt).every((k) => k === 'process/output'), `${spec.processId}: only output before exited`);
    assert.ok(kinds.slice(exitedAt + 1, -1).every((k) => k === 'process/output'), `${spec.processId}: only output between exited and closed`);

    const seqs = events.map((e) => e.params.seq);
    seqs.forEach((seq, k) => {
      assert.ok(Number.isInteger(seq), `${spec.processId}: seq ${seq}`);
      if (k > 0) assert.ok(seq > seqs[k - 1], `${spec.processId}: seq ${seqs[k - 1]} then ${seq}`);
    });

    const expectOut = Array.from({ length: lines }, (_, n) => `p${i} out ${n}\n`).join('');
    const expectErr = Array.from({ length: lines }, (_, n) => `p${i} err ${n}\n`).join('');
    assert.equal(decode(events, 'stdout'), expectOut, `${spec.processId}: stdout complete and in order`);
    assert.equal(decode(events, 'stderr'), expectErr, `${spec.processId}: stderr complete and in order`);

    const result = events[exitedAt].params.result;
    assert.equal(result.status, 'exited');
    assert.equal(result.exitCode, i + 1);
  });
}));

test('a processId is never reused on a connection', skippable(async (t) => {
  await orSkip(t, 'process/start', () => client.call('process/start', { processId: 'once', argv: ['true'] }));
  const again = await client.request('process/start', { processId: 'once', argv: ['true'] });
  assert.equal(again.error?.code, -32012, JSON.stringify(again));
  assert.equal(again.error?.data?.kind, 'conflict');
}));

test('tty process: pty output, write and exit status', skippable(async (t) => {
  const processId = 'tty-echo';
  await orSkip(t, 'process/start', () =>
    client.call('process/start', { processId, argv: ['sh', '-c', 'read line; echo "got:$line"; exit 5'], tty: true, cols: 80, rows: 24 }),
  );
  await client.call('process/write', { processId, data: Buffer.from('ping\n').toString('base64') });
  const closed = (msgs) => msgs.some((m) => m.method === 'process/closed' && m.params?.processId === processId);
  await client.waitUntil(closed, 20000, 'tty process to close');
  const events = eventsOf(processId);
  assert.ok(events.filter((e) => e.method === 'process/output').every((e) => e.params.stream === 'pty'), 'tty output arrives on the pty stream');
  assert.match(decode(events, 'pty'), /got:ping/);
  assert.equal(events.find((e) => e.method === 'process/exited').params.result.exitCode, 5);
}));

test('the server exits on stdin EOF', async () => {
  const { exitedOnItsOwn } = await client.close();
  client = undefined;
  assert.ok(exitedOnItsOwn, 'server had to be killed after stdin closed');
});
