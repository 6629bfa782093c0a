// The status bar item: the session's policy and what the host really enforces, refreshed from
// sandbox/info whenever the server (re)starts.
import * as vscode from 'vscode';
import { ClientState, CordonClient } from './client';
import { statusText } from './format';

export class SandboxStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private unsubscribe?: () => void;

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
    this.item.command = command;
    this.item.name = 'cordon sandbox';
    this.show('$(circle-slash) cordon', 'cordon is not running');
  }

  // Follows one client; call again after replacing the client.
  attach(client: CordonClient): void {
    this.unsubscribe?.();
    this.unsubscribe = client.onState((state, detail) => void this.onState(client, state, detail));
    void this.onState(client, client.state);
  }

  // Resolves when the item shows the server's answer (tests wait on it).
  refreshed: Promise<void> = Promise.resolve();

  private async onState(client: CordonClient, state: ClientState, detail?: string): Promise<void> {
    switch (state) {
      case 'starting':
        this.show('$(sync~spin) cordon', 'starting cordon');
        break;
      case 'restarting':
        this.show('$(sync~spin) cordon: restarting', detail ?? 'the server stopped; restarting it');
        break;
      case 'failed':
        this.show('$(error) cordon: stopped', detail ?? 'cordon is not running', true);
        break;
      case 'stopped':
        this.show('$(circle-slash) cordon', 'cordon is not running');
        break;
      case 'running':
        this.refreshed = this.refresh(client);
        await this.refreshed;
        break;
    }
  }

  async refresh(client: CordonClient): Promise<void> {
    try {
      const s = statusText(await client.sandboxInfo());
      this.show(s.text, s.tooltip, s.degraded);
    } catch (err) {
      this.show('$(warning) cordon', `sandbox/info failed: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  }

  private show(text: string, tooltip: string, warn = false): void {
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    return String(this.item.tooltip ?? '');
  }

  dispose(): void {
    this.unsubscribe?.();
    this.item.dispose();
  }
}
