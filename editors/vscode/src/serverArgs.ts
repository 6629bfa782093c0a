// Turns the extension's settings into a `cordon serve` command line. Settings can only be passed
// as configuration overrides (-c), which cordon validates: the extension never widens a policy
// the user's config file sets beyond what these settings say.

export interface ServerSettings {
  serverPath: string;
  workspace: string;
  configFile?: string;
  writableRoots?: string[];
  network?: boolean;
}

export function serverArgs(settings: ServerSettings): string[] {
  const args = ['serve', '--workspace', settings.workspace];
  if (settings.configFile) args.push('--config', settings.configFile);
  if (settings.writableRoots && settings.writableRoots.length > 0) {
    // A JSON array of strings is also a valid TOML array, which is how -c parses its value.
    args.push('-c', `sandbox_workspace_write.writable_roots=${JSON.stringify(settings.writableRoots)}`);
  }
  if (settings.network !== undefined) {
    args.push('-c', `sandbox_workspace_write.network_access=${settings.network ? 'true' : 'false'}`);
  }
  return args;
}
