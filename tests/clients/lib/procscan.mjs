// Looks for live processes by exact command line in /proc. The cordon sandbox puts commands in
// their own PID namespace, but the host's /proc still lists them, which is what lets a test prove
// that a cancelled command is really gone.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function findByArgv(argv) {
  // argv[0] is compared by basename: a server may exec "sleep" as /usr/bin/sleep.
  const base = (s) => s.slice(s.lastIndexOf('/') + 1);
  const want = [base(argv[0]), ...argv.slice(1)].join('\0');
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const got = cmdline.replace(/\0$/, '').split('\0');
    got[0] = base(got[0]);
    if (got.join('\0') === want && !isZombie(name)) pids.push(Number(name));
  }
  return pids;
}

function isZombie(pid) {
  try {
    return /\nState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

// Polls until present() matches or the deadline passes; returns the last pid list.
export async function waitForArgv(argv, present, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = findByArgv(argv);
    if (present(pids) || Date.now() > deadline) return pids;
    await sleep(50);
  }
}

// A sleep command line no other test on this machine will be running: GNU sleep accepts a
// fraction, so the random digits change nothing but make the /proc match unambiguous.
export function uniqueSleepArgv(seconds = 1000) {
  const tag = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
  return ['sleep', `${seconds}.${tag}`];
}
