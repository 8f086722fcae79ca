// weir in one network namespace and chromium in another, joined by a veth pair
// (tests/integration/netns_topology.py builds and removes them): weir's media IP is then
// a real address on a link, as on a server, which its DPDK dataplane must own itself.
// This process stays in the root namespace: it reaches weir's HTTPS through
// `ip netns exec <ns B> curl`, and chromium runs under a wrapper that execs it inside ns B
// (playwright talks to it over a pipe, which crosses namespaces).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { artifactDir, CHROMIUM, Peer } from './browser.mjs';
import { freeTcpPort, repoRoot, Weir, weirBinary } from './weir.mjs';

const topologyScript = path.join(repoRoot, 'tests', 'integration', 'netns_topology.py');
export const MODE = process.env.WEIR_NETNS_MODE || 'dpdk';

function python(args, timeout = 60000) {
  try {
    return execFileSync('python3', [topologyScript, ...args],
      { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`netns_topology.py ${args.join(' ')}: ${(e.stderr || '').trim() || e.message}`);
  }
}

// Creates the pair, owned by this process: removed by down(), at exit, on SIGINT/SIGTERM/
// SIGHUP, and (by the watchdog `up` starts) even if this process is killed outright.
export function topologyUp(mode = MODE) {
  if (process.getuid() !== 0) {
    throw new Error('dpdk-netns needs root: it creates network namespaces and a veth pair (CI runs it as root)');
  }
  const topo = JSON.parse(python(['up', '--mode', mode, '--owner', String(process.pid)]));
  let removed = false;
  topo.down = () => {
    if (removed) return;
    removed = true;
    python(['down', '--id', topo.id]);
  };
  process.on('exit', () => { try { topo.down(); } catch { /* the watchdog removes it */ } });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      try { topo.down(); } catch { /* the watchdog removes it */ }
      process.exit(128 + os.constants.signals[sig]);
    });
  }
  return topo;
}

export function inNs(ns, argv) { return ['netns', 'exec', ns, ...argv]; }

// weir inside ns A: kernel IP for HTTPS/WSS, media IP for ICE (in DPDK mode on its own
// port, net_af_packet over the same veth end).
export class NetnsWeir extends Weir {
  constructor(topo, { extraArgs = [] } = {}) {
    super({ extraArgs });
    this.topo = topo;
  }

  get baseUrl() { return `https://${this.topo.kernelIp}:${this.port}`; }

  modeArgs() {
    const t = this.topo;
    const common = ['--listen-ip', t.mediaIp, '--http-ip', t.kernelIp];
    if (t.mode === 'kernel') return common;
    const help = execFileSync(weirBinary(), ['--help'], { encoding: 'utf8' });
    if (!help.includes('--dataplane')) {
      throw new Error(`${weirBinary()} has no --dataplane option (no DPDK dataplane in this build); ` +
        'WEIR_NETNS_MODE=kernel tests this topology with the kernel dataplane');
    }
    const eal = process.env.WEIR_NETNS_EAL_ARGS ||
      `--no-huge --no-pci -m 1024 --no-shconf --no-telemetry --vdev=net_af_packet0,iface=${t.vethA}`;
    return ['--dataplane', 'dpdk', '--dpdk-eal-args', eal, '--dpdk-prefix-length', String(t.prefixLength), ...common];
  }

  async start() {
    this.port = await freeTcpPort(); // any port is free in ns A; this one is just random
    const rtcMin = 40000 + Math.floor(Math.random() * 18000);
    const args = [
      '--http-port', String(this.port),
      '--rtc-min-port', String(rtcMin), '--rtc-max-port', String(rtcMin + 255),
      '--web-root', this.webRoot, '--state-dir', this.logDir,
      ...this.modeArgs(), ...this.extraArgs,
    ];
    const log = openSync(this.logPath, 'w');
    // `ip netns exec` execs weir: this pid is weir's, for stop()'s SIGTERM.
    this.proc = spawn('ip', inNs(this.topo.nsA, [weirBinary(), ...args]), { stdio: ['ignore', log, log] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    return this.waitUntilServing(30000, 200);
  }

  // One HTTPS request from ns B (curl), as a client there makes it: {status, body}.
  request(method, urlPath, body, timeoutMs = 10000) {
    const argv = ['curl', '-sk', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-X', method,
      '-w', '\n%{http_code}', `${this.baseUrl}${urlPath}`];
    if (body !== undefined) argv.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
    return new Promise((resolve, reject) => {
      execFile('ip', inNs(this.topo.nsB, argv), { encoding: 'utf8', timeout: timeoutMs + 2000 }, (error, stdout) => {
        if (error) return reject(new Error(`${method} ${urlPath}: ${error.message}`));
        const cut = stdout.lastIndexOf('\n');
        const text = stdout.slice(0, cut);
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* plain text */ }
        resolve({ status: Number(stdout.slice(cut + 1)), body: parsed });
      });
    });
  }
}

// Chromium inside ns B, with the same switches as launchBrowser(). Returns {browser,
// dispose}: dispose() removes the wrapper script's directory.
export async function launchBrowserIn(ns) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-netns-chromium-'));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless: true,
    timeout: 30000,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--ignore-certificate-errors',
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', dispose); // also when a signal ends the test before its after hook
  return { browser, dispose };
}

// Records every RTCPeerConnection a page makes, so a test can read which candidate pair
// ICE selected (the demo app's own hook does not expose its transports).
function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

// The selected candidate pair of each of the page's open peer connections.
export function selectedPairs(peer) {
  return peer.hook(async () => {
    const out = [];
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let pair = null;
      stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
      if (!pair) continue;
      const local = stats.get(pair.localCandidateId) || {};
      const remote = stats.get(pair.remoteCandidateId) || {};
      out.push({
        state: pair.state, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
        local: `${local.address}:${local.port}`, remote: `${remote.address}:${remote.port}`, remoteAddress: remote.address,
      });
    }
    return out;
  });
}

// The test file's fixture, like useWeirAndBrowser() but across the two namespaces:
// {topo, weir, browser, newRoomId(), openPeers(roomId, peerIds)}.
export function useNetnsWeirAndBrowser({ weirArgs = [], fileName = 'dpdk-netns' } = {}) {
  const fixture = {
    topo: null,
    weir: null,
    browser: null,
    peers: [],
    rooms: 0,
    newRoomId(prefix = 'room') {
      fixture.rooms += 1;
      return `${prefix}-${process.pid}-${fixture.rooms}`;
    },
    async openPeers(roomId, peerIds) {
      // Peer.open() makes its own context: hand it one that records peer connections.
      const browser = fixture.browser;
      const recording = {
        async newContext(options) {
          const context = await browser.newContext(options);
          await context.addInitScript(recordPeerConnections);
          return context;
        },
      };
      const out = [];
      for (const id of peerIds) {
        const peer = await Peer.open(recording, fixture.weir.baseUrl, { roomId, peerId: id });
        fixture.peers.push(peer);
        await peer.waitJoined();
        out.push(peer);
      }
      return out;
    },
  };
  let chromiumDispose = null;
  before(async () => {
    fixture.topo = topologyUp();
    console.log(`# ${MODE} mode: weir in ${fixture.topo.nsA} (${fixture.topo.kernelIp}, media ${fixture.topo.mediaIp}), ` +
      `chromium in ${fixture.topo.nsB} (${fixture.topo.peerIp})`);
    fixture.weir = await new NetnsWeir(fixture.topo, { extraArgs: weirArgs }).start();
    const launched = await launchBrowserIn(fixture.topo.nsB);
    fixture.browser = launched.browser;
    chromiumDispose = launched.dispose;
  });
  after(async () => {
    try {
      for (const p of fixture.peers) {
        if (!p.page.isClosed()) {
          await p.page.screenshot({ path: path.join(artifactDir(), `${fileName}-${p.id}-end.png`) }).catch(() => {});
        }
      }
      if (fixture.weir) {
        try { copyFileSync(fixture.weir.logPath, path.join(artifactDir(), `${fileName}-weir.log`)); } catch { /* no log */ }
      }
      for (const p of fixture.peers.splice(0)) await p.close();
      if (fixture.browser) await fixture.browser.close().catch(() => {});
      if (chromiumDispose) chromiumDispose();
      if (fixture.weir) await fixture.weir.stop();
    } finally {
      if (fixture.topo) fixture.topo.down();
    }
  });
  return fixture;
}
