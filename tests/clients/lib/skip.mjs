// The server grows methods over time; a case whose method it does not know yet is skipped with
// the reason printed, not failed, so these tests can run against any stage of the server.
import { METHOD_NOT_FOUND } from './server.mjs';

export class Missing extends Error {}

// Runs fn; turns a -32601 reply (thrown by any client library as an error with .code) into a skip.
export async function orSkip(t, what, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err && err.code === METHOD_NOT_FOUND) {
      skipWith(t, `server answers ${what} with -32601 (not implemented yet)`);
      throw new Missing(what);
    }
    throw err;
  }
}

export function skipWith(t, reason) {
  t.skip(reason);
}

// Wraps a test body so a Missing thrown by orSkip ends the test as skipped rather than failed.
export function skippable(body) {
  return async (t) => {
    try {
      await body(t);
    } catch (err) {
      if (!(err instanceof Missing)) throw err;
    }
  };
}
