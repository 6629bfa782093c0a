// The parts of cordon's wire contract (PROTOCOL.md) this extension uses, as TypeScript types.
// Field names keep the wire's spelling.

export type EnforcementState = 'enforced' | 'degraded' | 'off';

export interface SandboxInfo {
  platform: string;
  // Each entry is a state, or an object carrying a state and the reason it is not enforced.
  // Absent when the sandbox could not be set up; `error` then says why.
  enforcement?: Record<string, unknown>;
  error?: { kind?: string; detail?: string };
  host?: Record<string, unknown>;
  policy?: Record<string, unknown>;
}

export interface InitializeResult {
  protocolVersion: string;
  serverInfo: { name: string; version: string };
  capabilities: Record<string, unknown>;
  instructions?: string;
}

export interface ProcessStartParams {
  processId?: string;
  argv?: string[];
  command?: string;
  cwd?: string;
  env?: Record<string, string>;
  tty?: boolean;
  cols?: number;
  rows?: number;
  stdin?: 'pipe' | 'null';
  timeoutMs?: number;
}

export interface ProcessResult {
  status: 'exited' | 'signaled' | 'timeout' | 'oom' | 'killed' | 'output_limit' | 'error';
  exitCode: number | null;
  signal: string | number | null;
  wallMs?: number;
  detail?: string;
}

export type ProcessEvent =
  | { kind: 'output'; seq: number; stream: 'stdout' | 'stderr' | 'pty'; data: Buffer }
  | { kind: 'exited'; seq: number; result: ProcessResult }
  | { kind: 'closed'; seq: number }
  // Not on the wire: the server died, so the process is gone and no more events will come.
  | { kind: 'lost'; reason: string };

export type Signal = 'INT' | 'TERM' | 'KILL' | 'HUP' | 'QUIT';

export interface PatchFile {
  path: string;
  action: 'add' | 'update' | 'delete' | 'move';
  movedTo?: string;
  hunks: number;
}

export interface PatchResult {
  applied: boolean;
  files: PatchFile[];
}

// A JSON-RPC error as the server sent it; cordon's carry data.kind and data.detail.
export interface WireError {
  code: number;
  message: string;
  data?: { kind?: string; detail?: string; [key: string]: unknown };
}

export const METHOD_NOT_FOUND = -32601;
