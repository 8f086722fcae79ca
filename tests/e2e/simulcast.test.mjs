// VP8 simulcast: a peer sends three encodings (r0 320x180, r1 640x360, r2 1280x720); the
// other decodes one of them, and setConsumerPreferredLayers switches which one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectFlowing, waitFor } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();
// Layer -> frame width of a 1280x720 capture scaled down by 4, 2, 1.
const WIDTH = [320, 640, 1280];

describe('VP8 simulcast', { timeout: 120000 }, () => {
  it('is decoded, and the preferred spatial layer sets the decoded width', { timeout: 110000 }, async () => {
    const room = fx.newRoomId('simulcast');
    const [sender] = await fx.openPeers(room, ['sender'], { simulcast: '1', mic: '0' });
    const [viewer] = await fx.openPeers(room, ['viewer'], { produce: '0' });
    await viewer.waitConsumers(['sender'], ['video']);
    const consumer = (await viewer.consumers()).find((c) => c.kind === 'video');
    assert.equal(consumer.type, 'simulcast', `newConsumer type ${consumer.type}`);

    // The browser really sends three encodings (its outbound-rtp stats carry the rids).
    await waitFor(async () => {
      const out = await sender.hook(() => window.__weir.outboundVideo());
      return ['r0', 'r1', 'r2'].every((rid) => out.some((o) => o.rid === rid && o.bytesSent > 0));
    }, { timeout: 20000, what: 'the sender to send rids r0, r1 and r2', describe: () => sender.hook(() => window.__weir.outboundVideo()) });
    await expectFlowing(viewer, ['sender'], 'video');

    // Lowest first, then the highest (the encoder needs its bandwidth estimate to ramp up
    // before it sends r2), then the middle one.
    for (const layer of [0, 2, 1]) {
      await viewer.hook(([id, l]) => window.__weir.setConsumerPreferredLayers(id, l), [consumer.id, layer]);
      await waitFor(async () => {
        const s = (await viewer.consumerStats()).find((x) => x.id === consumer.id);
        return s && s.frameWidth === WIDTH[layer];
      }, {
        timeout: 30000, interval: 300,
        what: `decoded width ${WIDTH[layer]} after setConsumerPreferredLayers(${layer})`,
        describe: async () => ({
          viewer: (await viewer.consumerStats()).find((x) => x.id === consumer.id),
          sender: await sender.hook(() => window.__weir.outboundVideo()),
        }),
      });
      await expectFlowing(viewer, ['sender'], 'video', { samples: 2, intervalMs: 1000 });
      console.log(`# simulcast: preferred spatial layer ${layer} -> decoded width ${WIDTH[layer]}`);
    }
  });
});
