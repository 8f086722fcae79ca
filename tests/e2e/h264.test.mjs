// H264 end to end: two peers that send H264 (constrained baseline) decode each other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectFlowing } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();

describe('H264', { timeout: 60000 }, () => {
  it('two peers sending H264 decode each other', { timeout: 50000 }, async () => {
    const [a, b] = await fx.openPeers(fx.newRoomId('h264'), ['h1', 'h2'], { codec: 'h264' });
    await a.waitConsumers(['h2'], ['video']);
    await b.waitConsumers(['h1'], ['video']);
    for (const [peer, other] of [[a, 'h2'], [b, 'h1']]) {
      const stats = await expectFlowing(peer, [other], 'video');
      assert.equal(stats[other].mimeType, 'video/H264', `${peer.id} decodes ${stats[other].mimeType}`);
    }
  });
});
