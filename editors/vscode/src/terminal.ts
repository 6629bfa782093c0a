// A VS Code pseudoterminal backed by a cordon process with a pty: keystrokes go to process/write,
// Ctrl+C to process/signal INT, resizes to process/resize, and process/output streams back.
import * as vscode from 'vscode';
import { CordonClient } from './client';
import { ProcessEvent, ProcessResult } from './protocol';

const CTRL_C = '\x03';

export class SandboxTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;

  private processId?: string;
  private running = false;
  private finished = false;
  private exitCode: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly client: CordonClient,
    private readonly command: string,
    private readonly cwd?: string,
  ) {}

  // Resolves once process/start has answered (or failed); tests wait on it.
  started: Promise<void> = Promise.resolve();

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    this.started = this.start(dimensions);
  }

  private async start(dimensions: vscode.TerminalDimensions | undefined): Promise<void> {
    try {
      const { processId } = await this.client.startProcess(
        {
          command: this.command,
          cwd: this.cwd,
          tty: true,
          stdin: 'pipe',
          ...(dimensions ? { cols: dimensions.columns, rows: dimensions.rows } : {}),
        },
        (event) => this.onEvent(event),
      );
      this.processId = processId;
      this.running = !this.finished;
    } catch (err) {
      this.finished = true;
      this.writeLine(`cordon could not start the command: ${describe(err)}`);
      this.writeLine('Press any key to close this terminal.');
    }
  }

  handleInput(data: string): void {
    if (this.finished && !this.running) {
      this.closeEmitter.fire(this.exitCode);
      return;
    }
    if (!this.processId) return;
    const id = this.processId;
    if (data === CTRL_C) {
      this.client.signalProcess(id, 'INT').catch((err) => this.writeLine(`signal failed: ${describe(err)}`));
    } else {
      this.client.writeProcess(id, data).catch((err) => this.writeLine(`input not delivered: ${describe(err)}`));
    }
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    if (this.processId && this.running) {
      this.client.resizeProcess(this.processId, dimensions.columns, dimensions.rows).catch(() => {});
    }
  }

  close(): void {
    // The user closed the terminal: the command must not outlive it.
    if (this.processId && this.running) this.client.terminateProcess(this.processId).catch(() => {});
    this.running = false;
  }

  private onEvent(event: ProcessEvent): void {
    switch (event.kind) {
      case 'output':
        this.writeEmitter.fire(this.decoder.decode(event.data, { stream: true }));
        break;
      case 'exited':
        this.exitCode = event.result.exitCode ?? undefined;
        this.writeEmitter.fire(this.decoder.decode());
        this.writeLine('');
        this.writeLine(exitLine(event.result));
        break;
      case 'closed':
        this.running = false;
        this.finished = true;
        this.writeLine('Press any key to close this terminal.');
        break;
      case 'lost':
        this.running = false;
        this.finished = true;
        this.writeLine('');
        this.writeLine(`[${event.reason}; the command is gone]`);
        break;
    }
  }

  private writeLine(text: string): void {
    this.writeEmitter.fire(`${text}\r\n`);
  }
}

export function exitLine(result: ProcessResult): string {
  switch (result.status) {
    case 'exited':
      return `[process exited with code ${result.exitCode}]`;
    case 'signaled':
      return `[process killed by signal ${result.signal}]`;
    default:
      return `[process ended: ${result.status}${result.detail ? ` - ${result.detail}` : ''}]`;
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'detail' in err) return String((err as { detail: unknown }).detail);
  return err instanceof Error ? err.message : String(err);
}
