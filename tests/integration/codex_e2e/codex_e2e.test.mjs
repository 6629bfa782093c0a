// The real Codex CLI, offline, with cordon attached as its MCP tool server: a stand-in model API
// asks Codex to call cordon's `exec` tool with a command that writes one file inside the
// workspace and one outside it. Codex must run the tool through cordon, and the sandbox must let
// the first write through and stop the second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../../clients/lib/raw_client.mjs';
import { cordonBin } from '../../clients/lib/server.mjs';
import { startModelStub } from './model_stub.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const codexBin = path.join(here, 'node_modules/.bin/codex');

let root;

before(() => {
  // Not under /tmp on purpose: cordon gives commands a private /tmp, which would hide a write
  // there whether or not the sandbox stopped it. Here a write outside the workspace can only
  // fail because the sandbox made the rest of the filesystem read-only.
  mkdirSync(path.join(here, '.work'), { recursive: true });
  root = mkdtempSync(path.join(here, '.work', 'run-'));
});

after(() => {
  if (root && !process.env.CORDON_KEEP_E2E) rmSync(root, { recursive: true, force: true });
});

// Which tools this cordon offers, asked the way Codex will ask.
async function cordonTools(bin, workspace) {
  const client = new RawClient(bin, ['serve', '--workspace', workspace]);
  try {
    await client.initialize();
    const listed = await client.call('tools/list', {});
    return listed.tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

function codexConfig({ baseUrl, bin, workspace }) {
  const q = JSON.stringify; // TOML basic strings accept JSON string escapes
  return `# Written by the cordon Codex end-to-end test.
model = "stub-model"
model_provider = "stub"
approval_policy = "never"
sandbox_mode = "read-only"

[model_providers.stub]
name = "cordon test stand-in"
base_url = ${q(baseUrl)}
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[mcp_servers.cordon]
command = ${q(bin)}
args = ["serve", "--workspace", ${q(workspace)}]
startup_timeout_sec = 30
tool_timeout_sec = 60
# cordon is the sandbox, so its tools run without asking; with approval_policy = "never" Codex
# would otherwise refuse any tool not marked read-only.
default_tools_approval_mode = "approve"
`;
}

function runCodex(args, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    // stdin is /dev/null: with a pipe, `codex exec` waits to read more prompt from it.
    const child = spawn(codexBin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`codex did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('Codex runs cordon exec; the sandbox keeps writes inside the workspace', async (t) => {
  if (!existsSync(codexBin)) {
    const reason = `@openai/codex is not installed (npm ci --prefix ${path.relative(process.cwd(), here) || '.'} failed or was not run)`;
    return t.skip(reason);
  }
  const bin = cordonBin();
  const workspace = path.join(root, 'workspace');
  const outside = path.join(root, 'outside');
  const codexHome = path.join(root, 'codex-home');
  for (const dir of [workspace, outside, codexHome]) mkdirSync(dir);

  const tools = await cordonTools(bin, workspace);
  if (!tools.includes('exec')) {
    const reason = `cordon does not offer the exec tool yet (tools: ${tools.join(', ') || 'none'})`;
    return t.skip(reason);
  }

  // Control: the test itself can write where the sandboxed command will be refused, so a missing
  // file below means the sandbox stopped it, not that the directory was unwritable anyway.
  writeFileSync(path.join(outside, 'probe'), 'x');
  unlinkSync(path.join(outside, 'probe'));

  const outsideFile = path.join(outside, 'escaped.txt');
  const command =
    `echo inside > inside.txt && echo WROTE_INSIDE; ` +
    `(echo outside > '${outsideFile}') 2>/dev/null && echo WROTE_OUTSIDE || echo OUTSIDE_DENIED`;
  const model = await startModelStub({ namespace: 'mcp__cordon', tool: 'exec', args: { command } });
  t.after(() => model.close());
  writeFileSync(path.join(codexHome, 'config.toml'), codexConfig({ baseUrl: model.baseUrl, bin, workspace }));

  const env = { ...process.env, CODEX_HOME: codexHome, NO_COLOR: '1' };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  const run = await runCodex(
    ['exec', '--json', '--skip-git-repo-check', '-C', workspace, 'Create inside.txt using the cordon exec tool.'],
    env,
    240000,
  );
  const diagnostics = `codex exit ${run.code ?? run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-4000)}`;
  assert.equal(run.code, 0, diagnostics);

  const events = run.stdout
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line));
  const call = events.find((e) => e.type === 'item.completed' && e.item?.type === 'mcp_tool_call');
  assert.ok(call, `no completed mcp_tool_call event\n${diagnostics}`);
  assert.equal(call.item.server, 'cordon');
  assert.equal(call.item.tool, 'exec');
  assert.equal(call.item.status, 'completed', diagnostics);

  // The command ran through cordon: its output came back to the model as the tool's result...
  const second = model.requests.find((r) => JSON.stringify(r.body ?? {}).includes('call_cordon_1') && JSON.stringify(r.body).includes('function_call_output'));
  assert.ok(second, 'Codex sent the tool result back to the model');
  const returned = JSON.stringify(second.body);
  assert.match(returned, /WROTE_INSIDE/);
  assert.match(returned, /OUTSIDE_DENIED/);
  const final = events.find((e) => e.type === 'item.completed' && e.item?.type === 'agent_message');
  assert.match(final?.item?.text ?? '', /STUB_FINAL/);

  // ...and its effects obeyed the sandbox.
  assert.equal(readFileSync(path.join(workspace, 'inside.txt'), 'utf8'), 'inside\n');
  assert.equal(existsSync(outsideFile), false, 'a write outside the workspace got through');
});
