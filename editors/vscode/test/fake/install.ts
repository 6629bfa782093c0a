// Makes `require('vscode')` load the hand-written fake next to this file. Import this first in
// a test, before anything that imports the extension's vscode-facing code.
import Module = require('node:module');

const moduleInternals = Module as unknown as {
  _resolveFilename: (request: string, ...rest: unknown[]) => string;
};
const original = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
  if (request === 'vscode') return require.resolve('./vscode');
  return original.call(this, request, ...rest);
};
