// Entry point: one cordon server per window, started for the first workspace folder and
// restarted when the settings change. Commands reach it through the client in ./client.
import * as vscode from 'vscode';
import { CordonClient } from './client';
import { applyPatchCommand } from './patchCommand';
import { SECTION, readSettings } from './settings';
import { SandboxStatus } from './statusBar';
import { SandboxTerminal } from './terminal';

// Returned from activate() so tests (and other extensions) can reach the live objects.
export interface CordonApi {
  client(): CordonClient | undefined;
  status: SandboxStatus;
}

let current: CordonClient | undefined;

export function activate(context: vscode.ExtensionContext): CordonApi {
  const output = vscode.window.createOutputChannel('cordon');
  const status = new SandboxStatus('cordon.showInfo');
  context.subscriptions.push(output, status);

  const connect = (): void => {
    const settings = readSettings();
    if (!settings) {
      current = undefined;
      return;
    }
    current = new CordonClient({ ...settings, log: (line) => output.appendLine(line) });
    status.attach(current);
    current.start().catch((err) => output.appendLine(`cordon did not start: ${err instanceof Error ? err.message : String(err)}`));
  };

  // Commands need a running client; say why when there is none.
  const withClient = (run: (client: CordonClient) => unknown) => async () => {
    if (!current) {
      void vscode.window.showErrorMessage('cordon: open a folder first; it becomes the sandbox workspace.');
      return;
    }
    return run(current);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(
      'cordon.runCommand',
      withClient(async (client) => {
        const command = await vscode.window.showInputBox({ prompt: 'Command to run in the cordon sandbox', placeHolder: 'npm test' });
        if (!command) return undefined;
        const pty = new SandboxTerminal(client, command);
        const terminal = vscode.window.createTerminal({ name: `cordon: ${command}`, pty });
        terminal.show();
        return pty;
      }),
    ),
    vscode.commands.registerCommand('cordon.applyPatch', withClient((client) => applyPatchCommand(client))),
    vscode.commands.registerCommand(
      'cordon.showInfo',
      withClient(async (client) => {
        const info = await client.sandboxInfo();
        output.appendLine(JSON.stringify(info, null, 2));
        output.show(true);
        return info;
      }),
    ),
    vscode.commands.registerCommand('cordon.restart', async () => {
      await current?.stop();
      connect();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(SECTION)) return;
      await current?.stop();
      connect();
    }),
    { dispose: () => void current?.stop() },
  );

  connect();
  return { client: () => current, status };
}

export async function deactivate(): Promise<void> {
  await current?.stop();
  current = undefined;
}
