// MCP roots with the official SDK client: started without --workspace, cordon asks a client
// that offers roots for them and roots the default session there, not in its own cwd. Controls:
// the same client without the roots capability, and with --workspace given, get the cwd /
// the flag's directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { cordonBin, makeWorkspace } from './lib/server.mjs';

// Connects a client started in `cwd`; `roots` (directories) are offered when given.
async function connect({ cwd, args = [], roots }) {
  const transport = new StdioClientTransport({ command: cordonBin(), args: ['serve', ...args], cwd, stderr: 'pipe' });
  const client = new Client({ name: 'cordon-roots-test', version: '0' }, { capabilities: roots ? { roots: { listChanged: true } } : {} });
  let asked = 0;
  if (roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked += 1;
      return { roots: roots.map((dir) => ({ uri: pathToFileURL(dir).href, name: path.basename(dir) })) };
    });
  }
  await client.connect(transport);
  return { client, asked: () => asked };
}

// The first thing the client does after connecting: write a file through the default session
// and ask where that session is rooted.
async function writeAndLocate(client) {
  const write = await client.callTool({ name: 'write_file', arguments: { path: 'marker.txt', content: 'here' } });
  assert.ok(!write.isError, JSON.stringify(write));
  const info = await client.callTool({ name: 'sandbox_info', arguments: {} });
  return info.structuredContent.policy;
}

test('the default session is rooted in the roots the client lists', async () => {
  const cwd = makeWorkspace('cordon-roots-cwd-');
  const root = makeWorkspace('cordon-roots-root-');
  const { client, asked } = await connect({ cwd: cwd.dir, roots: [root.dir] });
  try {
    const policy = await writeAndLocate(client);
    assert.equal(asked(), 1);
    assert.deepEqual(policy.workspaceRoots, [root.dir]);
    assert.equal(readFileSync(path.join(root.dir, 'marker.txt'), 'utf8'), 'here');
    assert.ok(!existsSync(path.join(cwd.dir, 'marker.txt')), 'nothing written in the server cwd');
  } finally {
    await client.close();
    cwd.remove();
    root.remove();
  }
});

test('control: a client without roots gets the server cwd', async () => {
  const cwd = makeWorkspace('cordon-roots-cwd-');
  const { client } = await connect({ cwd: cwd.dir });
  try {
    const policy = await writeAndLocate(client);
    assert.deepEqual(policy.workspaceRoots, [cwd.dir]);
    assert.equal(readFileSync(path.join(cwd.dir, 'marker.txt'), 'utf8'), 'here');
  } finally {
    await client.close();
    cwd.remove();
  }
});

test('--workspace wins over the client roots, which are not asked for', async () => {
  const cwd = makeWorkspace('cordon-roots-cwd-');
  const root = makeWorkspace('cordon-roots-root-');
  const flag = makeWorkspace('cordon-roots-flag-');
  const { client, asked } = await connect({ cwd: cwd.dir, args: ['--workspace', flag.dir], roots: [root.dir] });
  try {
    const policy = await writeAndLocate(client);
    assert.equal(asked(), 0);
    assert.deepEqual(policy.workspaceRoots, [flag.dir]);
    assert.ok(!existsSync(path.join(root.dir, 'marker.txt')));
  } finally {
    await client.close();
    for (const w of [cwd, root, flag]) w.remove();
  }
});
