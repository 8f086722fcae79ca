// The real weir binary for one test file: started on free ports with --web-root pointing
// at the built demo app, talked to over HTTPS (its self-signed certificate is accepted),
// and stopped by PID with SIGTERM; a non-zero exit fails the test.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

export function weirBinary() {
  const exe = process.env.WEIR_BIN;
  if (!exe) throw new Error('WEIR_BIN is not set (scripts/test-e2e.sh passes the build tree\'s src/app/weir)');
  return exe;
}

export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let helpText = null;
function weirHas(option) {
  if (helpText === null) helpText = execFileSync(weirBinary(), ['--help'], { encoding: 'utf8' });
  return helpText.includes(option);
}

export class Weir {
  constructor({ extraArgs = [], webRoot = path.join(repoRoot, 'web', 'dist') } = {}) {
    this.extraArgs = extraArgs;
    this.webRoot = webRoot;
    this.proc = null;
    this.port = null;
    this.logDir = mkdtempSync(path.join(os.tmpdir(), 'weir-e2e-'));
    this.logPath = path.join(this.logDir, 'weir.log');
  }

  get baseUrl() { return `https://127.0.0.1:${this.port}`; }

  async start() {
    this.port = await freeTcpPort();
    const rtcMin = 40000 + Math.floor(Math.random() * 18000);
    const args = [
      '--http-port', String(this.port),
      '--rtc-min-port', String(rtcMin), '--rtc-max-port', String(rtcMin + 255),
      '--web-root', this.webRoot,
      ...this.extraArgs,
    ];
    // The generated TLS certificate goes to a private state dir, not the user's.
    if (weirHas('--state-dir')) args.push('--state-dir', this.logDir);
    const log = openSync(this.logPath, 'w');
    this.proc = spawn(weirBinary(), args, { stdio: ['ignore', log, log] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    return this.waitUntilServing(20000, 100);
  }

  // Bounded wait for the API after spawning weir; throws with the log's tail.
  async waitUntilServing(timeoutMs, intervalMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc.exitCode !== null) {
        throw new Error(`weir exited with ${this.proc.exitCode} during start-up:\n${this.logTail()}`);
      }
      try {
        const { status } = await this.request('GET', '/stats', undefined, 2000);
        if (status === 200) return this;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        throw new Error(`weir did not answer HTTPS within ${timeoutMs / 1000} s:\n${this.logTail()}`);
      }
      await sleep(intervalMs);
    }
  }

  logTail(lines = 60) {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  // SIGTERM by PID; weir must exit 0 within 15 s.
  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`weir exited with ${code ?? signal} after SIGTERM (want 0):\n${this.logTail()}`);
    } else if (proc.exitCode !== 0) {
      throw new Error(`weir had exited with ${proc.exitCode ?? proc.signalCode}:\n${this.logTail()}`);
    }
    rmSync(this.logDir, { recursive: true, force: true });
  }

  // One HTTPS request; resolves {status, body} with body parsed as JSON when it is JSON.
  request(method, urlPath, body, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request({
        host: '127.0.0.1', port: this.port, path: urlPath, method,
        rejectUnauthorized: false,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
        timeout: timeoutMs,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try { parsed = JSON.parse(text); } catch { /* plain text */ }
          resolve({ status: res.statusCode, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  // A request that must answer 200.
  async api(method, urlPath, body) {
    const { status, body: answer } = await this.request(method, urlPath, body);
    if (status !== 200) {
      throw new Error(`${method} ${urlPath} answered ${status}: ${typeof answer === 'string' ? answer : JSON.stringify(answer)}`);
    }
    return answer;
  }
}
