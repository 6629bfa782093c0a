// A small stand-in for the `vscode` module: just the API surface the extension uses, with hooks
// for tests to script the user's answers and to see what the extension showed. It is not a
// model of VS Code; anything the extension starts using must be added here on purpose.

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export const Uri = {
  file: (fsPath: string) => ({ fsPath, scheme: 'file', path: fsPath }),
};

// ---- what tests script and observe ----------------------------------------------------------

export interface FakeTerminal {
  name: string;
  pty: {
    open(d?: { columns: number; rows: number }): void;
    handleInput?(data: string): void;
    setDimensions?(d: { columns: number; rows: number }): void;
    close(): void;
    onDidWrite: (l: Listener<string>) => unknown;
    onDidClose?: (l: Listener<number | void>) => unknown;
  };
  shown: boolean;
}

export const fake = {
  // Answers for the next prompts, taken in order; undefined means the user dismissed it.
  answers: {
    inputBox: [] as Array<string | undefined>,
    quickPick: [] as Array<string | undefined>, // matched against item labels
    openDialog: [] as Array<string[] | undefined>,
    information: [] as Array<string | undefined>,
  },
  clipboard: '',
  config: {} as Record<string, unknown>,
  workspaceFolders: [] as string[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  terminals: [] as FakeTerminal[],
  documents: [] as Array<{ language?: string; content?: string }>,
  messages: [] as Array<{ level: 'info' | 'error' | 'warning'; text: string }>,
  statusItems: [] as StatusBarItem[],
  output: [] as string[],
  configListeners: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),

  reset(): void {
    this.answers.inputBox = [];
    this.answers.quickPick = [];
    this.answers.openDialog = [];
    this.answers.information = [];
    this.clipboard = '';
    this.terminals = [];
    this.documents = [];
    this.messages = [];
  },

  changeConfig(values: Record<string, unknown>): void {
    Object.assign(this.config, values);
    this.configListeners.fire({ affectsConfiguration: (s: string) => s === 'cordon' || s.startsWith('cordon.') });
  },
};

class StatusBarItem {
  text = '';
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}

// ---- the API surface --------------------------------------------------------------------------

export const window = {
  createOutputChannel: (_name: string) => ({
    appendLine: (line: string) => void fake.output.push(line),
    append: (text: string) => void fake.output.push(text),
    show: () => undefined,
    dispose: () => undefined,
  }),
  createStatusBarItem: (_alignment?: StatusBarAlignment, _priority?: number) => {
    const item = new StatusBarItem();
    fake.statusItems.push(item);
    return item;
  },
  createTerminal: (options: { name: string; pty: FakeTerminal['pty'] }) => {
    const terminal: FakeTerminal = { name: options.name, pty: options.pty, shown: false };
    fake.terminals.push(terminal);
    return { name: options.name, show: () => void (terminal.shown = true), dispose: () => options.pty.close() };
  },
  showInputBox: async (_options?: unknown) => fake.answers.inputBox.shift(),
  showQuickPick: async <T extends { label: string }>(items: T[] | Promise<T[]>, _options?: unknown) => {
    const label = fake.answers.quickPick.shift();
    return (await items).find((item) => item.label === label);
  },
  showOpenDialog: async (_options?: unknown) => fake.answers.openDialog.shift()?.map((p) => Uri.file(p)),
  showInformationMessage: async (text: string, ..._rest: unknown[]) => {
    fake.messages.push({ level: 'info', text });
    return fake.answers.information.shift();
  },
  showWarningMessage: async (text: string, ..._rest: unknown[]) => {
    fake.messages.push({ level: 'warning', text });
    return undefined;
  },
  showErrorMessage: async (text: string, ..._rest: unknown[]) => {
    fake.messages.push({ level: 'error', text });
    return undefined;
  },
  showTextDocument: async (doc: unknown, _options?: unknown) => doc,
};

export const commands = {
  registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
    if (fake.commands.has(id)) throw new Error(`command ${id} registered twice`);
    fake.commands.set(id, run);
    return { dispose: () => fake.commands.delete(id) };
  },
  executeCommand: async (id: string, ...args: unknown[]) => {
    const run = fake.commands.get(id);
    if (!run) throw new Error(`command ${id} not found`);
    return run(...args);
  },
};

export const workspace = {
  get workspaceFolders() {
    return fake.workspaceFolders.length ? fake.workspaceFolders.map((p, index) => ({ uri: Uri.file(p), name: p, index })) : undefined;
  },
  getConfiguration: (section: string) => ({
    get: <T>(key: string, defaultValue?: T) => {
      const value = fake.config[`${section}.${key}`];
      return (value === undefined ? defaultValue : value) as T;
    },
  }),
  onDidChangeConfiguration: fake.configListeners.event,
  openTextDocument: async (options: { language?: string; content?: string }) => {
    fake.documents.push(options);
    return { languageId: options.language, getText: () => options.content ?? '' };
  },
};

export const env = {
  clipboard: { readText: async () => fake.clipboard, writeText: async (t: string) => void (fake.clipboard = t) },
};
