// The extension's connection to `cordon serve`: spawns the server, speaks JSON-RPC to it with
// Content-Length framing (vscode-jsonrpc), routes process notifications to their owners and
// restarts the server when it dies. No `vscode` import here, so this file is tested under plain
// Node against the real server.
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  CancellationToken,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from 'vscode-jsonrpc/node';
import {
  InitializeResult,
  METHOD_NOT_FOUND,
  PatchResult,
  ProcessEvent,
  ProcessResult,
  ProcessStartParams,
  SandboxInfo,
  Signal,
  WireError,
} from './protocol';
import { ServerSettings, serverArgs } from './serverArgs';

export type ClientState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export interface RestartPolicy {
  // More than maxRestarts crashes within windowMs and the client gives up (state 'failed').
  maxRestarts: number;
  windowMs: number;
  delayMs: number;
}

export interface ClientOptions extends ServerSettings {
  restart?: RestartPolicy;
  log?: (line: string) => void;
}

// A JSON-RPC error reply, or the connection failing under a request.
export class CordonError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data?: WireError['data'],
  ) {
    super(message);
  }

  // What a user should read: cordon's detail when it gave one.
  get detail(): string {
    return this.data?.detail ?? this.message;
  }
}

export function isMethodMissing(err: unknown): boolean {
  return err instanceof CordonError && err.code === METHOD_NOT_FOUND;
}

const DEFAULT_RESTART: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, delayMs: 500 };

export class CordonClient {
  private child?: ChildProcess;
  private connection?: MessageConnection;
  private ready?: Promise<InitializeResult>;
  private stopping = false;
  private crashes: number[] = [];
  private readonly processes = new Map<string, (event: ProcessEvent) => void>();
  private readonly stateListeners = new Set<(state: ClientState, detail?: string) => void>();
  private stderrTail = '';
  private _state: ClientState = 'stopped';
  serverInfo?: InitializeResult;

  constructor(private readonly options: ClientOptions) {}

  get state(): ClientState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  onState(listener: (state: ClientState, detail?: string) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  // Starts the server if it is not running; resolves once it has answered `initialize`.
  start(): Promise<InitializeResult> {
    if (this._state === 'failed' || this._state === 'stopped' || !this.ready) {
      this.stopping = false;
      this.crashes = [];
      this.ready = this.launch();
      this.ready.catch(() => {}); // callers of request() see the failure
    }
    return this.ready;
  }

  async request<R>(method: string, params?: object, token?: CancellationToken): Promise<R> {
    await this.start();
    const connection = this.connection;
    if (!connection) throw new CordonError('cordon server is not running', -32000);
    try {
      return (await (token ? connection.sendRequest(method, params ?? {}, token) : connection.sendRequest(method, params ?? {}))) as R;
    } catch (err) {
      throw toCordonError(err);
    }
  }

  sandboxInfo(sessionId?: string): Promise<SandboxInfo> {
    return this.request('sandbox/info', sessionId ? { sessionId } : {});
  }

  // Registers onEvent before the request goes out, since output may arrive before the reply.
  async startProcess(params: ProcessStartParams, onEvent: (event: ProcessEvent) => void): Promise<{ processId: string; pid: number }> {
    const processId = params.processId ?? `vscode-${randomUUID()}`;
    this.processes.set(processId, onEvent);
    try {
      return await this.request('process/start', { ...params, processId });
    } catch (err) {
      this.processes.delete(processId);
      throw err;
    }
  }

  writeProcess(processId: string, data: string | Uint8Array, eof = false): Promise<unknown> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    return this.request('process/write', { processId, data: bytes.toString('base64'), ...(eof ? { eof } : {}) });
  }

  resizeProcess(processId: string, cols: number, rows: number): Promise<unknown> {
    return this.request('process/resize', { processId, cols, rows });
  }

  signalProcess(processId: string, signal: Signal): Promise<unknown> {
    return this.request('process/signal', { processId, signal });
  }

  terminateProcess(processId: string): Promise<unknown> {
    return this.request('process/terminate', { processId });
  }

  applyPatch(patch: string, dryRun: boolean): Promise<PatchResult> {
    return this.request('patch/apply', { patch, dryRun });
  }

  // Polite stop: shutdown + exit, then EOF, then a kill if the server lingers.
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    const connection = this.connection;
    if (!child) {
      this.setState('stopped');
      return;
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    if (connection && this._state === 'running') {
      try {
        await Promise.race([connection.sendRequest('shutdown'), delay(graceMs / 2)]);
        await connection.sendNotification('exit');
      } catch {
        // a server that is already gone needs no shutdown
      }
    }
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.setState('stopped');
  }

  private launch(): Promise<InitializeResult> {
    this.setState(this.crashes.length > 0 ? 'restarting' : 'starting');
    const child = spawn(this.options.serverPath, serverArgs(this.options), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      this.options.log?.(chunk.trimEnd());
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    this.connection = connection;
    connection.onNotification('process/output', (p: { processId: string; seq: number; stream: 'stdout' | 'stderr' | 'pty'; data: string }) =>
      this.route(p.processId, { kind: 'output', seq: p.seq, stream: p.stream, data: Buffer.from(p.data, 'base64') }),
    );
    connection.onNotification('process/exited', (p: { processId: string; seq: number; result: ProcessResult }) =>
      this.route(p.processId, { kind: 'exited', seq: p.seq, result: p.result }),
    );
    connection.onNotification('process/closed', (p: { processId: string; seq: number }) => {
      this.route(p.processId, { kind: 'closed', seq: p.seq });
      this.processes.delete(p.processId);
    });
    connection.onNotification('notifications/message', (p: { level: string; data: unknown }) =>
      this.options.log?.(`[${p.level}] ${typeof p.data === 'string' ? p.data : JSON.stringify(p.data)}`),
    );
    connection.listen();

    let initialized = false;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new CordonError(`cannot start ${this.options.serverPath}: ${err.message}`, -32000)));
      child.once('exit', (code, signal) => {
        if (!initialized) reject(new CordonError(`cordon exited during startup (${signal ?? code}): ${this.stderrTail.trim()}`, -32000));
      });
    });
    child.once('exit', (code, signal) => this.onExit(child, initialized, code, signal));

    const handshake = (async () => {
      const result = (await connection.sendRequest('initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'cordon-vscode', version: '0.1.0' },
      })) as InitializeResult;
      await connection.sendNotification('notifications/initialized');
      return result;
    })();
    return Promise.race([handshake, failed]).then(
      (result) => {
        initialized = true;
        this.serverInfo = result;
        this.setState('running');
        return result;
      },
      (err) => {
        this.setState('failed', err instanceof Error ? err.message : String(err));
        child.kill('SIGKILL');
        throw toCordonError(err);
      },
    );
  }

  private onExit(child: ChildProcess, initialized: boolean, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.connection?.dispose();
    this.connection = undefined;
    this.child = undefined;
    const reason = `cordon server exited (${signal ?? `code ${code}`})`;
    for (const [, listener] of this.processes) listener({ kind: 'lost', reason });
    this.processes.clear();
    if (this.stopping || !initialized) return;

    const now = Date.now();
    const policy = this.options.restart ?? DEFAULT_RESTART;
    this.crashes = [...this.crashes.filter((t) => now - t < policy.windowMs), now];
    if (this.crashes.length > policy.maxRestarts) {
      this.setState('failed', `${reason}; gave up after ${policy.maxRestarts} restarts`);
      this.ready = Promise.reject(new CordonError(`${reason}; not restarting`, -32000));
      this.ready.catch(() => {});
      return;
    }
    this.options.log?.(`${reason}; restarting`);
    this.setState('restarting', reason);
    this.ready = delay(policy.delayMs).then(() => (this.stopping ? Promise.reject(new CordonError('stopped', -32000)) : this.launch()));
    this.ready.catch(() => {});
  }

  private route(processId: string, event: ProcessEvent): void {
    this.processes.get(processId)?.(event);
  }

  private setState(state: ClientState, detail?: string): void {
    this._state = state;
    for (const listener of this.stateListeners) listener(state, detail);
  }
}

function toCordonError(err: unknown): CordonError {
  if (err instanceof CordonError) return err;
  const e = err as { code?: unknown; message?: string; data?: WireError['data'] };
  const code = typeof e?.code === 'number' ? e.code : -32000;
  return new CordonError(e?.message ?? String(err), code, e?.data);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
