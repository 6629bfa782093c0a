// Reads the extension's settings into the shape the client needs.
import * as vscode from 'vscode';
import { ServerSettings } from './serverArgs';

export const SECTION = 'cordon';

// undefined when no folder is open: cordon needs a workspace to confine commands to.
export function readSettings(): ServerSettings | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    serverPath: config.get<string>('serverPath') || 'cordon',
    workspace: folder.uri.fsPath,
    configFile: config.get<string>('configFile') || undefined,
    writableRoots: config.get<string[]>('writableRoots') ?? [],
    network: config.get<boolean>('network') ?? false,
  };
}
