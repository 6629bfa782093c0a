// The real cordon binary these tests drive (CORDON_BIN, else the one ./x builds) and helpers to
// wait on it. Relative CORDON_BIN paths are taken from the repository root.
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// out/test -> editors/vscode -> repository root
const repoRoot = path.resolve(__dirname, '../../../..');

export function cordonBin(): string {
  const configured = process.env.CORDON_BIN;
  const bin = configured ? path.resolve(repoRoot, configured) : path.join(repoRoot, 'build/server/cordon');
  if (!existsSync(bin)) throw new Error(`cordon binary not found at ${bin}: build it (./x) or set CORDON_BIN`);
  return bin;
}

export function makeWorkspace(): { dir: string; remove(): void } {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'cordon-vscode-')));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isAlive(pid: number): boolean {
  try {
    return !/\nState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

// Pids whose command line is exactly argv (argv[0] by basename); see tests/clients/lib/procscan.
export function findByArgv(argv: string[]): number[] {
  const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  const want = [base(argv[0]), ...argv.slice(1)].join('\0');
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const got = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
      got[0] = base(got[0]);
      if (got.join('\0') === want && isAlive(Number(name))) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

export function uniqueSleep(): string[] {
  return ['sleep', `1000.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`];
}
