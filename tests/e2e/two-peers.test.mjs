// Two browsers in one room: each decodes the other's VP8 video and receives its audio,
// chat both ways, producer pause/resume, restartIce, and a peer leaving. Also prints the
// time from WebSocket open to the first decoded remote frame.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectFlowing, waitFor } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

// A short consent timeout: after restartIce, media keeps flowing past it only if weir
// accepted the browser's checks under the new ICE credentials.
const CONSENT_TIMEOUT_S = 6;
const fx = useWeirAndBrowser({ weirArgs: ['--ice-consent-timeout', String(CONSENT_TIMEOUT_S)] });

describe('two peers', { timeout: 150000 }, () => {
  let a;
  let b;

  it('both decode video and receive audio from each other', { timeout: 60000 }, async () => {
    const room = fx.newRoomId('two');
    [a, b] = await fx.openPeers(room, ['alice', 'bob']);
    await a.waitConsumers(['bob']);
    await b.waitConsumers(['alice']);
    for (const [peer, other] of [[a, 'bob'], [b, 'alice']]) {
      const video = await expectFlowing(peer, [other], 'video');
      assert.equal(video[other].mimeType, 'video/VP8', `${peer.id} decodes ${video[other].mimeType}`);
      await expectFlowing(peer, [other], 'audio');
      await expectFlowing(peer, [other], 'audio', { field: 'totalSamplesReceived', samples: 2 });
    }
    // The figure: from the socket's open to the first decoded frame of the other.
    const figures = [];
    for (const peer of [a, b]) {
      const t = await peer.times();
      assert.ok(t.wsOpen !== null && t.firstRemoteFrame !== null, `${peer.id} times: ${JSON.stringify(t)}`);
      figures.push(`${peer.id} ${Math.round(t.firstRemoteFrame - t.wsOpen)} ms` +
        ` (join at ${Math.round(t.joined - t.wsOpen)} ms)`);
    }
    // alice joins first, so her figure includes waiting for bob to open his page; bob's
    // is the one a person joining a room sees.
    console.log(`# ws open -> first decoded remote frame: ${figures.join(', ')} (alice's includes waiting for bob)`);
  });

  it('chat reaches the other peer both ways', { timeout: 20000 }, async () => {
    await a.hook((text) => window.__weir.sendChat(text), 'hello from alice');
    await b.hook((text) => window.__weir.sendChat(text), 'hi alice, bob here');
    for (const [peer, from, text] of [[b, 'alice', 'hello from alice'], [a, 'bob', 'hi alice, bob here']]) {
      await waitFor(async () => (await peer.chat()).some((m) => !m.own && m.peerId === from && m.text === text),
        { timeout: 10000, what: `${peer.id} to receive "${text}" from ${from}`, describe: async () => ({ chat: await peer.chat(), ...(await peer.describe()) }) });
    }
  });

  it('video pause/resume gives consumerPaused/consumerResumed and video resumes', { timeout: 30000 }, async () => {
    const consumer = (await b.consumers()).find((c) => c.peerId === 'alice' && c.kind === 'video');
    await a.hook(() => window.__weir.pauseProducer('video'));
    const hasNotification = (method) => async () => (await b.notifications())
      .some((n) => n.method === method && n.data.consumerId === consumer.id);
    await waitFor(hasNotification('consumerPaused'), { timeout: 10000, what: `consumerPaused for ${consumer.id} at bob`, describe: () => b.describe() });
    // Paused means no frames: the count stops (allow the frames already in flight).
    await new Promise((r) => setTimeout(r, 700));
    const before = (await b.consumerStats()).find((s) => s.id === consumer.id).framesDecoded;
    await new Promise((r) => setTimeout(r, 1500));
    const during = (await b.consumerStats()).find((s) => s.id === consumer.id).framesDecoded;
    assert.ok(during - before <= 2, `bob decoded ${during - before} frames of a paused producer`);

    await a.hook(() => window.__weir.resumeProducer('video'));
    await waitFor(hasNotification('consumerResumed'), { timeout: 10000, what: `consumerResumed for ${consumer.id} at bob`, describe: () => b.describe() });
    await waitFor(async () => (await b.consumerStats()).find((s) => s.id === consumer.id).framesDecoded > during + 5,
      { timeout: 10000, what: 'bob to decode alice\'s video again after resume', describe: () => b.consumerStats() });
    await expectFlowing(b, ['alice'], 'video');
  });

  it('restartIce keeps media flowing past the consent timeout', { timeout: 40000 }, async () => {
    await a.hook(() => window.__weir.restartIce());
    await b.hook(() => window.__weir.restartIce());
    await new Promise((r) => setTimeout(r, (CONSENT_TIMEOUT_S + 2) * 1000));
    for (const [peer, other] of [[a, 'bob'], [b, 'alice']]) {
      await expectFlowing(peer, [other], 'video');
      await expectFlowing(peer, [other], 'audio', { samples: 2 });
    }
  });

  it('a peer leaving gives peerClosed and consumerClosed at the other', { timeout: 20000 }, async () => {
    const fromBob = (await a.consumers()).filter((c) => c.peerId === 'bob').map((c) => c.id);
    assert.equal(fromBob.length, 2, 'alice consumes bob\'s audio and video');
    await b.close();
    await waitFor(async () => {
      const n = await a.notifications();
      return n.some((x) => x.method === 'peerClosed' && x.data.peerId === 'bob') &&
        fromBob.every((id) => n.some((x) => x.method === 'consumerClosed' && x.data.consumerId === id));
    }, { timeout: 15000, what: `peerClosed(bob) and consumerClosed(${fromBob}) at alice`, describe: () => a.describe() });
    assert.deepEqual(await a.consumers(), [], 'alice has no consumers left');
  });
});
