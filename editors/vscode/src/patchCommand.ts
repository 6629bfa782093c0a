// "cordon: Apply Patch…": takes a patch (Codex envelope or unified diff) from the clipboard or a
// file, dry-runs it, shows what would change, and applies it only after the user agrees. The
// server applies all or nothing, so a refused or failed patch leaves every file as it was.
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { CordonClient, CordonError, isMethodMissing } from './client';
import { patchPreview, patchSummary } from './format';

type Source = 'clipboard' | 'file';

export async function applyPatchCommand(client: CordonClient): Promise<boolean> {
  const patch = await pickPatch();
  if (patch === undefined) return false;
  if (patch.trim() === '') {
    void vscode.window.showErrorMessage('cordon: the patch is empty.');
    return false;
  }

  let dryRun;
  try {
    dryRun = await client.applyPatch(patch, true);
  } catch (err) {
    void vscode.window.showErrorMessage(patchError('does not apply', err));
    return false;
  }

  const doc = await vscode.workspace.openTextDocument({ language: 'diff', content: patchPreview(dryRun, patch) });
  await vscode.window.showTextDocument(doc, { preview: true });
  const summary = patchSummary(dryRun);
  const choice = await vscode.window.showInformationMessage(`Apply this patch in the sandbox (${summary})?`, { modal: true }, 'Apply');
  if (choice !== 'Apply') return false;

  try {
    const result = await client.applyPatch(patch, false);
    void vscode.window.showInformationMessage(`cordon: patch applied (${patchSummary(result)}).`);
    return true;
  } catch (err) {
    void vscode.window.showErrorMessage(patchError('was not applied', err));
    return false;
  }
}

async function pickPatch(): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'From clipboard', source: 'clipboard' as Source },
      { label: 'From file…', source: 'file' as Source },
    ],
    { placeHolder: 'Where is the patch?' },
  );
  if (!picked) return undefined;
  if (picked.source === 'clipboard') return vscode.env.clipboard.readText();
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Apply Patch',
    filters: { Patches: ['patch', 'diff', 'txt'], 'All files': ['*'] },
  });
  if (!files || files.length === 0) return undefined;
  return readFile(files[0].fsPath, 'utf8');
}

function patchError(what: string, err: unknown): string {
  if (isMethodMissing(err)) return 'cordon: this server cannot apply patches yet (patch/apply is not implemented).';
  const detail = err instanceof CordonError ? err.detail : err instanceof Error ? err.message : String(err);
  return `cordon: the patch ${what}: ${detail}`;
}
