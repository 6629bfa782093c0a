// Pure text for the UI: the status bar line for a sandbox/info reply and the preview of a patch
// dry run. Kept apart from the vscode-facing code so it is tested directly.
import { PatchResult, SandboxInfo } from './protocol';

const AREAS: Array<[string, string]> = [
  ['filesystem', 'fs'],
  ['network', 'net'],
  ['resources', 'limits'],
  ['processTree', 'tree'],
];

// An enforcement entry is either a bare state or an object with a state and a reason.
export function enforcementState(value: unknown): { state: string; reason?: string } {
  if (typeof value === 'string') return { state: value };
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    const state = [v.state, v.status, v.level].find((x) => typeof x === 'string') as string | undefined;
    const reason = [v.reason, v.detail, v.why].find((x) => typeof x === 'string') as string | undefined;
    return { state: state ?? 'unknown', reason };
  }
  return { state: 'unknown' };
}

// sandbox/info still answers when the session's sandbox could not be set up, with an error.
function sandboxError(info: SandboxInfo): string | undefined {
  const e = info.error;
  if (!e) return undefined;
  return [e.kind, e.detail].filter(Boolean).join(': ') || 'unknown';
}

function reasonsFor(info: SandboxInfo, area: string): string | undefined {
  const reasons = info.enforcement?.reasons;
  if (reasons && typeof reasons === 'object') {
    const r = (reasons as Record<string, unknown>)[area];
    if (typeof r === 'string') return r;
    if (Array.isArray(r)) return r.join('; ');
  }
  return undefined;
}

export function policyName(info: SandboxInfo): string {
  const p = info.policy ?? {};
  const name = [p.sandbox_mode, p.sandboxMode, p.mode, p.name].find((x) => typeof x === 'string');
  return typeof name === 'string' ? name : 'policy';
}

// The policy's network setting as words: a boolean (allowed/off) or the server's own term.
function networkSetting(info: SandboxInfo): string | undefined {
  const p = info.policy ?? {};
  const found = [p.network_access, p.networkAccess, p.network].find((x) => typeof x === 'boolean' || typeof x === 'string');
  if (typeof found === 'boolean') return found ? 'allowed' : 'off';
  return typeof found === 'string' ? found : undefined;
}

const MARK: Record<string, string> = { enforced: '✓', degraded: '~', off: '✗' };

export interface StatusText {
  text: string;
  tooltip: string;
  degraded: boolean;
}

export function statusText(info: SandboxInfo): StatusText {
  const marks: string[] = [];
  const lines: string[] = [`cordon sandbox on ${info.platform}`, `policy: ${policyName(info)}`];
  const net = networkSetting(info);
  if (net !== undefined) lines.push(`network: ${net}`);
  const failure = sandboxError(info);
  if (failure) lines.push(`sandbox error: ${failure}`);
  let degraded = failure !== undefined;
  for (const [area, short] of AREAS) {
    const { state, reason } = enforcementState(info.enforcement?.[area]);
    const why = reason ?? reasonsFor(info, area);
    if (state !== 'enforced') degraded = true;
    marks.push(`${short}${MARK[state] ?? '?'}`);
    lines.push(`${area}: ${state}${why ? ` (${why})` : ''}`);
  }
  const icon = degraded ? '$(warning)' : '$(shield)';
  return { text: `${icon} cordon: ${policyName(info)} ${marks.join(' ')}`, tooltip: lines.join('\n'), degraded };
}

// The document shown before a patch is applied: what the dry run says will change, then the patch.
export function patchPreview(dryRun: PatchResult, patch: string): string {
  const header = dryRun.files.map((f) => {
    const target = f.action === 'move' && f.movedTo ? `${f.path} -> ${f.movedTo}` : f.path;
    const hunks = f.action === 'update' || f.action === 'move' ? `, ${f.hunks} hunk${f.hunks === 1 ? '' : 's'}` : '';
    return `# ${f.action} ${target}${hunks}`;
  });
  return [`# cordon dry run: ${dryRun.files.length} file${dryRun.files.length === 1 ? '' : 's'} would change`, ...header, '', patch].join('\n');
}

export function patchSummary(result: PatchResult): string {
  const counts = new Map<string, number>();
  for (const f of result.files) counts.set(f.action, (counts.get(f.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(', ') || 'no changes';
}
