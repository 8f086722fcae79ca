// Two browsers through weir's DPDK dataplane on a real link: weir runs in network
// namespace A with its DPDK port on net_af_packet over a veth end, owning the media IP
// itself; chromium runs in namespace B at the other end, loads the demo app from weir's
// kernel IP and sends and receives media to and from the media IP. Each peer decodes the
// other's VP8 video and receives its audio, and every peer connection's selected ICE pair
// has weir's media IP as its remote address. WEIR_NETNS_MODE=kernel runs weir's kernel
// dataplane on the same topology (a check of the plumbing). Needs root: fails without.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectFlowing, waitFor } from './lib/browser.mjs';
import { MODE, selectedPairs, useNetnsWeirAndBrowser } from './lib/netns.mjs';

const fx = useNetnsWeirAndBrowser();

describe(`two peers across network namespaces, weir's ${MODE} dataplane`, { timeout: 120000 }, () => {
  it('each decodes the other\'s video and receives its audio over the media IP', { timeout: 90000 }, async () => {
    const room = fx.newRoomId('netns');
    const [a, b] = await fx.openPeers(room, ['alice', 'bob']);
    await a.waitConsumers(['bob']);
    await b.waitConsumers(['alice']);
    for (const [peer, other] of [[a, 'bob'], [b, 'alice']]) {
      const video = await expectFlowing(peer, [other], 'video');
      assert.equal(video[other].mimeType, 'video/VP8', `${peer.id} decodes ${video[other].mimeType}`);
      assert.ok(video[other].frameWidth > 0, `${peer.id} decodes frames of width ${video[other].frameWidth}`);
      await expectFlowing(peer, [other], 'audio');
    }
    const { mediaIp } = fx.topo;
    for (const peer of [a, b]) {
      // A send and a receive transport, both on weir's media IP, both carrying bytes.
      const pairs = await waitFor(async () => {
        const p = await selectedPairs(peer);
        return p.length >= 2 && p.every((x) => x.bytesReceived > 0 && x.bytesSent > 0) ? p : null;
      }, { timeout: 10000, what: `${peer.id}'s two peer connections to carry media`, describe: () => selectedPairs(peer) });
      console.log(`# ${peer.id} selected pairs: ${pairs.map((p) => `${p.local} -> ${p.remote}`).join(', ')}`);
      for (const p of pairs) assert.equal(p.remoteAddress, mediaIp, `${peer.id}: ${JSON.stringify(p)}`);
    }
    const stats = await fx.weir.api('GET', '/stats');
    const stacks = (stats.workers || []).map((w) => w.netStack).filter(Boolean);
    if (MODE === 'dpdk') {
      assert.ok(stacks.length > 0, `DPDK mode but /stats has no workers[].netStack: ${JSON.stringify(stats.workers)}`);
      console.log(`# netStack: ${JSON.stringify(stacks)}`);
      for (const s of stacks) {
        assert.equal(s.dropped?.udpChecksum ?? 0, 0, `UDP checksum drops: ${JSON.stringify(s)}`);
        assert.equal(s.dropped?.ipv4Checksum ?? 0, 0, `IPv4 checksum drops: ${JSON.stringify(s)}`);
      }
    }
  });
});
