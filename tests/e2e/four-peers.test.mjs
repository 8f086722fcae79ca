// Four browsers in one room: each decodes video and receives audio from the three others,
// and one peer's chat message reaches all three.
import { describe, it } from 'node:test';
import { expectFlowing, waitFor } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();
const IDS = ['p1', 'p2', 'p3', 'p4'];
// Four encoders and twelve decoders share two cores: small frames.
const QUERY = { width: '320', height: '180' };

describe('four peers', { timeout: 120000 }, () => {
  let peers;

  it('every peer decodes video and receives audio from every other', { timeout: 90000 }, async () => {
    peers = await fx.openPeers(fx.newRoomId('four'), IDS, QUERY);
    for (const peer of peers) await peer.waitConsumers(IDS.filter((id) => id !== peer.id), ['audio', 'video'], 30000);
    for (const peer of peers) {
      const others = IDS.filter((id) => id !== peer.id);
      await expectFlowing(peer, others, 'video', { samples: 2, intervalMs: 2000 });
      await expectFlowing(peer, others, 'audio', { samples: 2, intervalMs: 1000 });
    }
  });

  it('one peer\'s chat message reaches all three others', { timeout: 20000 }, async () => {
    await peers[2].hook((t) => window.__weir.sendChat(t), 'p3 to everyone');
    for (const peer of peers.filter((p) => p.id !== 'p3')) {
      await waitFor(async () => (await peer.chat()).some((m) => m.peerId === 'p3' && m.text === 'p3 to everyone'),
        { timeout: 10000, what: `${peer.id} to receive p3's chat`, describe: async () => ({ chat: await peer.chat() }) });
    }
  });
});
