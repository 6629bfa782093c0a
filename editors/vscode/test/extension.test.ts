// Activation and command wiring, with a hand-written fake of the `vscode` module and the real
// `cordon serve` behind it: the status bar, the sandboxed terminal (output, typing, resize,
// Ctrl+C), Apply Patch with its dry run and preview, settings changes and deactivation.
import './fake/install';
import { test, before, after, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fake, FakeTerminal } from './fake/vscode';
import * as extension from '../src/extension';
import { isMethodMissing } from '../src/client';
import { cordonBin, findByArgv, isAlive, makeWorkspace, uniqueSleep, waitFor } from './server';

let workspace: ReturnType<typeof makeWorkspace>;
let api: extension.CordonApi;
const subscriptions: Array<{ dispose(): unknown }> = [];

before(async () => {
  workspace = makeWorkspace();
  fake.workspaceFolders = [workspace.dir];
  fake.config['cordon.serverPath'] = cordonBin();
  api = extension.activate({ subscriptions } as never);
  await api.client()!.start();
});

after(async () => {
  await extension.deactivate();
  for (const s of subscriptions) s.dispose();
  workspace?.remove();
});

async function processMethodsPresent(t: TestContext): Promise<boolean> {
  try {
    await api.client()!.request('process/list', {});
    return true;
  } catch (err) {
    if (!isMethodMissing(err)) throw err;
    t.skip('process methods not implemented yet');
    return false;
  }
}

// Runs "cordon: Run Command in Sandbox" for a command and opens its pseudoterminal.
async function runInTerminal(command: string): Promise<{ terminal: FakeTerminal; screen: () => string; started: Promise<void> }> {
  fake.reset();
  fake.answers.inputBox.push(command);
  const pty = (await fake.commands.get('cordon.runCommand')!()) as { started: Promise<void> };
  const terminal = fake.terminals[0];
  assert.ok(terminal, 'a terminal was created');
  assert.equal(terminal.shown, true);
  let text = '';
  terminal.pty.onDidWrite((chunk: string) => void (text += chunk));
  terminal.pty.open({ columns: 80, rows: 24 });
  return { terminal, screen: () => text, started: pty.started };
}

test('activate registers the commands', () => {
  for (const id of ['cordon.runCommand', 'cordon.applyPatch', 'cordon.showInfo', 'cordon.restart']) {
    assert.ok(fake.commands.has(id), id);
  }
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  const declared = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual([...fake.commands.keys()].sort(), declared, 'every declared command is registered, and only those');
});

test('the status bar shows the policy and what is enforced', async () => {
  await api.status.refreshed;
  const item = fake.statusItems[0];
  assert.ok(item.visible);
  assert.match(item.text, /cordon: \S+ fs. net. limits. tree./);
  assert.match(String(item.tooltip), /filesystem: /);
  assert.equal(item.command, 'cordon.showInfo');
});

test('Run Command: output and exit status reach the terminal', async (t) => {
  if (!(await processMethodsPresent(t))) return;
  const { screen, started } = await runInTerminal('echo sandboxed-$((6*7)); exit 3');
  await started;
  await waitFor(() => screen().includes('[process exited with code 3]'), 20000, 'exit line');
  assert.match(screen(), /sandboxed-42/);
});

test('Run Command: typing goes to the process and resize reaches the pty', async (t) => {
  if (!(await processMethodsPresent(t))) return;
  const { terminal, screen, started } = await runInTerminal('read a; echo "typed:$a"; read b; stty size');
  await started;
  terminal.pty.handleInput!('abc\r');
  await waitFor(() => screen().includes('typed:abc'), 20000, 'echo of typed input');
  terminal.pty.setDimensions!({ columns: 101, rows: 33 });
  await new Promise((r) => setTimeout(r, 300)); // resize is fire-and-forget from the terminal
  terminal.pty.handleInput!('\r');
  await waitFor(() => screen().includes('[process exited with code 0]'), 20000, 'exit line');
  assert.match(screen(), /33 101/);
});

test('Run Command: Ctrl+C interrupts the command', async (t) => {
  if (!(await processMethodsPresent(t))) return;
  const argv = uniqueSleep();
  const { terminal, screen, started } = await runInTerminal(argv.join(' '));
  await started;
  await waitFor(() => findByArgv(argv).length > 0, 15000, `${argv.join(' ')} running`);
  terminal.pty.handleInput!('\x03');
  await waitFor(() => /\[process (killed by signal|exited with code 130)/.test(screen()), 15000, 'interrupted exit line');
  await waitFor(() => findByArgv(argv).length === 0 || undefined, 10000, 'the command to be gone');
});

test('Apply Patch: dry run, preview, then apply on consent', async (t) => {
  fake.reset();
  const file = path.join(workspace.dir, 'hello.txt');
  writeFileSync(file, 'one\ntwo\n');
  fake.clipboard = ['*** Begin Patch', '*** Update File: hello.txt', '@@', ' one', '-two', '+2', '*** End Patch', ''].join('\n');
  fake.answers.quickPick.push('From clipboard');
  fake.answers.information.push('Apply');
  const applied = await fake.commands.get('cordon.applyPatch')!();
  const missing = fake.messages.find((m) => m.level === 'error' && /not implemented/.test(m.text));
  if (missing) {
    return t.skip(missing.text);
  }
  assert.equal(applied, true, JSON.stringify(fake.messages));
  assert.equal(fake.documents[0]?.language, 'diff');
  assert.match(fake.documents[0]?.content ?? '', /# update .*hello\.txt, 1 hunk/);
  assert.equal(readFileSync(file, 'utf8'), 'one\n2\n');
});

test('Apply Patch: declining the preview leaves the file alone', async (t) => {
  fake.reset();
  const file = path.join(workspace.dir, 'keep.txt');
  writeFileSync(file, 'same\n');
  const patchFile = path.join(workspace.dir, 'change.patch');
  writeFileSync(patchFile, ['*** Begin Patch', '*** Update File: keep.txt', '@@', '-same', '+different', '*** End Patch', ''].join('\n'));
  fake.answers.quickPick.push('From file…');
  fake.answers.openDialog.push([patchFile]);
  fake.answers.information.push(undefined); // the user closes the dialog
  const applied = await fake.commands.get('cordon.applyPatch')!();
  const missing = fake.messages.find((m) => m.level === 'error' && /not implemented/.test(m.text));
  if (missing) {
    return t.skip(missing.text);
  }
  assert.equal(applied, false);
  assert.equal(fake.documents.length, 1, 'the preview was shown');
  assert.equal(readFileSync(file, 'utf8'), 'same\n');
});

test('Apply Patch: a patch that does not apply is reported and changes nothing', async (t) => {
  fake.reset();
  fake.clipboard = ['*** Begin Patch', '*** Update File: absent.txt', '@@', '-x', '+y', '*** End Patch', ''].join('\n');
  fake.answers.quickPick.push('From clipboard');
  const applied = await fake.commands.get('cordon.applyPatch')!();
  assert.equal(applied, false);
  const error = fake.messages.find((m) => m.level === 'error');
  assert.ok(error, 'an error message was shown');
  if (/not implemented/.test(error.text)) return t.skip(error.text);
  assert.match(error.text, /does not apply/);
  assert.equal(fake.documents.length, 0, 'no preview for a failed dry run');
});

test('changing a setting restarts the server with the new command line', async () => {
  const before = api.client()!;
  const oldPid = before.pid!;
  fake.changeConfig({ 'cordon.network': false });
  const after = await waitFor(() => api.client() !== before && api.client(), 10000, 'a new client');
  await after.start();
  assert.notEqual(after.pid, oldPid);
  await waitFor(() => !isAlive(oldPid), 5000, 'the old server to exit');
});

test('deactivate stops the server', async () => {
  const pid = api.client()!.pid!;
  await extension.deactivate();
  assert.equal(isAlive(pid), false);
});
