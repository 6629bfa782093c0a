// Where the cordon binary is, and a throwaway workspace to serve. Every client test starts the
// real server through here so CORDON_BIN means the same thing in all of them.
import { existsSync, mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// CORDON_BIN wins; otherwise the binary `./x` builds. A relative CORDON_BIN is taken from the
// repository root, so `CORDON_BIN=build-asan/server/cordon` works from any directory.
export function cordonBin() {
  const configured = process.env.CORDON_BIN;
  const bin = configured ? path.resolve(repoRoot, configured) : path.join(repoRoot, 'build/server/cordon');
  if (!existsSync(bin)) {
    throw new Error(`cordon binary not found at ${bin}: build it (./x) or set CORDON_BIN`);
  }
  return bin;
}

// A fresh workspace under the system temp dir. realpath, because the server reports resolved
// paths and /tmp may be a symlink.
export function makeWorkspace(prefix = 'cordon-clients-') {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function serveArgs(workspace, extra = []) {
  return ['serve', '--workspace', workspace, ...extra];
}

export const METHOD_NOT_FOUND = -32601;
