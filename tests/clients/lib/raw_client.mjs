// A scripted JSON-RPC client with no library in between: it writes frames itself (NDJSON or
// Content-Length) and records every message the server sends, in arrival order, so tests can
// check ordering guarantees that client libraries would hide.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export class RawClient {
  constructor(bin, args, { framing = 'ndjson' } = {}) {
    this.framing = framing;
    this.nextId = 1;
    this.pending = new Map();
    this.messages = []; // every server message, in order
    this.waiters = [];
    this.stderr = '';
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit');
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-20000);
    });
    this.buffer = Buffer.alloc(0);
    this.child.stdout.on('data', (d) => this.onBytes(d));
  }

  send(message) {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    if (this.framing === 'ndjson') {
      this.child.stdin.write(Buffer.concat([body, Buffer.from('\n')]));
    } else {
      this.child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    }
  }

  // Resolves with the whole response message ({result} or {error}); never rejects on an error
  // reply, so tests can look at codes.
  request(method, params, timeoutMs = 30000) {
    const id = this.nextId++;
    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${method} (id ${id}) within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return reply;
  }

  // Like request() but throws {code, message, data} on an error reply.
  async call(method, params, timeoutMs) {
    const msg = await this.request(method, params, timeoutMs);
    if (msg.error) throw Object.assign(new Error(`${method}: ${msg.error.message}`), msg.error);
    return msg.result;
  }

  notify(method, params) {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  async initialize() {
    const result = await this.call('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'cordon-raw-test', version: '0' },
    });
    this.notify('notifications/initialized');
    return result;
  }

  notifications(method) {
    return this.messages.filter((m) => m.id === undefined && (!method || m.method === method));
  }

  // Resolves once predicate(messages) is true.
  waitUntil(predicate, timeoutMs = 30000, what = 'condition') {
    if (predicate(this.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // Ends stdin (the server must then exit) and kills the server if it lingers. Reports whether
  // the server left on its own.
  async close(graceMs = 5000) {
    this.child.stdin.end();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    const [code, signal] = await this.exited;
    clearTimeout(timer);
    return { code, signal, exitedOnItsOwn: !killed };
  }

  onBytes(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const body = this.framing === 'ndjson' ? this.takeLine() : this.takeFrame();
      if (body === null) return;
      if (body.trim() === '') continue;
      this.onMessage(JSON.parse(body));
    }
  }

  takeLine() {
    const nl = this.buffer.indexOf(10);
    if (nl < 0) return null;
    const line = this.buffer.subarray(0, nl).toString('utf8');
    this.buffer = this.buffer.subarray(nl + 1);
    return line;
  }

  takeFrame() {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const header = this.buffer.subarray(0, end).toString('ascii');
    const match = /content-length:\s*(\d+)/i.exec(header);
    if (!match) throw new Error(`frame without Content-Length: ${JSON.stringify(header)}`);
    const length = Number(match[1]);
    if (this.buffer.length < end + 4 + length) return null;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + length);
    return body;
  }

  onMessage(msg) {
    if (Array.isArray(msg)) {
      msg.forEach((m) => this.onMessage(m));
      return;
    }
    this.messages.push(msg);
    if (msg.id !== undefined && msg.method === undefined) {
      const done = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (done) done(msg);
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(this.messages)) {
        clearTimeout(waiter.timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve();
      }
    }
  }
}
