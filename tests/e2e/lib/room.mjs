// A test file's fixture: one weir, one chromium, and helpers to open peers in a room.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { artifactDir, launchBrowser, Peer } from './browser.mjs';
import { Weir } from './weir.mjs';

// node --test runs each file in its own process: argv[1] is the file.
const fileName = path.basename(process.argv[1] || 'e2e', '.test.mjs');

let roomCounter = 0;

// Registers before/after hooks for the file; returns an object whose fields are set once
// the hooks ran: {weir, browser, openPeers(roomId, peerIds, query), newRoomId()}.
export function useWeirAndBrowser({ weirArgs = [] } = {}) {
  const fixture = {
    weir: null,
    browser: null,
    peers: [],
    newRoomId(prefix = 'room') {
      roomCounter += 1;
      return `${prefix}-${process.pid}-${roomCounter}`;
    },
    async openPeer(roomId, peerId, query = {}) {
      const peer = await Peer.open(fixture.browser, fixture.weir.baseUrl, { roomId, peerId, query });
      fixture.peers.push(peer);
      return peer;
    },
    // Opens peers one after the other (each joined before the next opens), as people do.
    async openPeers(roomId, peerIds, query = {}) {
      const out = [];
      for (const id of peerIds) {
        const peer = await fixture.openPeer(roomId, id, query);
        await peer.waitJoined();
        out.push(peer);
      }
      return out;
    },
    async closeAll() {
      for (const p of fixture.peers.splice(0)) await p.close();
    },
  };
  before(async () => {
    fixture.weir = await new Weir({ extraArgs: weirArgs }).start();
    fixture.browser = await launchBrowser();
  });
  after(async () => {
    // What the pages still open at the end show, and weir's log: for looking at failures.
    for (const p of fixture.peers) {
      if (!p.page.isClosed()) {
        await p.page.screenshot({ path: path.join(artifactDir(), `${fileName}-${p.id}-end.png`) }).catch(() => {});
      }
    }
    if (fixture.weir) {
      try { copyFileSync(fixture.weir.logPath, path.join(artifactDir(), `${fileName}-weir.log`)); } catch { /* no log */ }
    }
    await fixture.closeAll();
    if (fixture.browser) await fixture.browser.close().catch(() => {});
    if (fixture.weir) await fixture.weir.stop();
  });
  return fixture;
}
