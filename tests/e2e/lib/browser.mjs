// Headless Debian chromium with fake camera and microphone, and one page per peer (each
// in its own browser context, as separate people would be).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './weir.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function artifactDir() {
  const dir = process.env.E2E_ARTIFACT_DIR || path.join(repoRoot, 'build', 'e2e-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--ignore-certificate-errors',
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls check() until it returns a truthy value; on timeout the error says what was
// awaited and what describe() saw last.
export async function waitFor(check, { timeout = 15000, interval = 200, what, describe } = {}) {
  const deadline = Date.now() + timeout;
  let lastError = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      let seen = '';
      if (describe) {
        try { seen = `\nseen: ${JSON.stringify(await describe(), null, 1)}`; } catch (e) { seen = `\n(describe failed: ${e.message})`; }
      }
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
        (lastError ? ` (last error: ${lastError.message})` : '') + seen);
    }
    await sleep(interval);
  }
}

export class Peer {
  constructor(context, page, peerId, logs) {
    this.context = context;
    this.page = page;
    this.id = peerId;
    this.logs = logs;
  }

  // Opens the demo app as peerId in roomId; query adds URL options (codec, simulcast...).
  static async open(browser, baseUrl, { roomId, peerId, displayName = peerId, query = {} }) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    const params = new URLSearchParams({ roomId, peerId, displayName, ...query });
    await page.goto(`${baseUrl}/?${params}`, { timeout: 15000 });
    return new Peer(context, page, peerId, logs);
  }

  hook(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  state() {
    return this.hook(() => ({
      state: window.__weir.state,
      errors: window.__weir.errors,
      peers: window.__weir.peers,
      producers: window.__weir.producers,
      consumers: window.__weir.consumers,
      dataConsumers: window.__weir.dataConsumers,
      notifications: window.__weir.notifications.map((n) => n.method).slice(-30),
    }));
  }

  async describe() {
    let state;
    try { state = await this.state(); } catch (e) { state = `(page unavailable: ${e.message})`; }
    return { peer: this.id, state, consoleErrors: this.logs.slice(-10) };
  }

  consumers() { return this.hook(() => window.__weir.consumers); }
  consumerStats() { return this.hook(() => window.__weir.consumerStats()); }
  notifications() { return this.hook(() => window.__weir.notifications); }
  chat() { return this.hook(() => window.__weir.chat); }
  times() { return this.hook(() => window.__weir.times); }

  waitJoined(timeout = 20000) {
    return waitFor(() => this.hook(() => window.__weir && window.__weir.state === 'joined'),
      { timeout, what: `${this.id} to join`, describe: () => this.describe() });
  }

  // Waits until this peer has a consumer of each kind from each of the given peers.
  waitConsumers(fromPeerIds, kinds = ['audio', 'video'], timeout = 20000) {
    return waitFor(async () => {
      const consumers = await this.consumers();
      return fromPeerIds.every((p) => kinds.every((k) => consumers.some((c) => c.peerId === p && c.kind === k)));
    }, { timeout, what: `${this.id} to consume ${kinds.join('+')} of ${fromPeerIds.join(', ')}`, describe: () => this.describe() });
  }

  async close() {
    await this.context.close().catch(() => {});
  }
}

// Stats of this peer's consumers of one kind, keyed by the producing peer.
export async function statsByPeer(peer, kind) {
  const out = {};
  for (const s of await peer.consumerStats()) if (s.kind === kind) out[s.peerId] = s;
  return out;
}

// Media keeps flowing from each of fromPeerIds to peer: over `samples` intervals of
// `intervalMs`, video framesDecoded (or audio packetsReceived) rises in every interval.
// Returns the last sample. Throws with every sample when it does not.
export async function expectFlowing(peer, fromPeerIds, kind, { samples = 3, intervalMs = 1500, field } = {}) {
  const counter = field || (kind === 'video' ? 'framesDecoded' : 'packetsReceived');
  // A consumer that has just been created has no inbound-rtp stats yet: wait for its media
  // to start, then check that it keeps coming.
  await waitFor(async () => {
    const now = await statsByPeer(peer, kind);
    return fromPeerIds.every((from) => now[from] && now[from][counter] > 0);
  }, { timeout: 15000, what: `${peer.id} to start receiving ${kind} (${counter} > 0) from ${fromPeerIds.join(', ')}`,
    describe: async () => ({ stats: await statsByPeer(peer, kind), peer: await peer.describe() }) });
  const history = [await statsByPeer(peer, kind)];
  for (let i = 0; i < samples; i++) {
    await sleep(intervalMs);
    history.push(await statsByPeer(peer, kind));
  }
  const problems = [];
  for (const from of fromPeerIds) {
    const series = history.map((h) => (h[from] ? h[from][counter] : undefined));
    for (let i = 1; i < series.length; i++) {
      if (!(series[i] > series[i - 1])) {
        problems.push(`${kind} ${counter} from ${from} at ${peer.id} did not rise: ${JSON.stringify(series)}`);
        break;
      }
    }
  }
  if (problems.length) {
    throw new Error(`${problems.join('\n')}\nlast stats: ${JSON.stringify(history[history.length - 1])}\n` +
      `peer: ${JSON.stringify(await peer.describe())}`);
  }
  return history[history.length - 1];
}
