// A test file's fixture: one weir, one chromium, and helpers to open peers in a room.
import { after, before } from 'node:test';
import { launchBrowser, Peer } from './browser.mjs';
import { Weir } from './weir.mjs';

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
    await fixture.closeAll();
    if (fixture.browser) await fixture.browser.close().catch(() => {});
    if (fixture.weir) await fixture.weir.stop();
  });
  return fixture;
}
