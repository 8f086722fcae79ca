// Bad input over the WebSocket while two browsers are in the room: a third connection in
// the same room sends malformed JSON, an unknown method, requests before join, for unknown
// transports and producers, produce before connect, an oversized message and a flood. Each
// gets the contract's answer (or close code), and the two browsers keep decoding each other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectFlowing } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();

// Runs in a page of weir's origin: raw protoo over the browser's own WebSocket.
async function misbehave({ roomId }) {
  const url = (peerId) => `wss://${location.host}/?roomId=${encodeURIComponent(roomId)}&peerId=${peerId}`;
  const open = (peerId) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url(peerId), 'protoo');
    const inbox = [];
    ws.onmessage = (e) => inbox.push(JSON.parse(e.data));
    ws.onopen = () => resolve({ ws, inbox });
    ws.onerror = () => reject(new Error(`${peerId}: WebSocket error`));
  });
  const closed = (ws) => new Promise((resolve) => { ws.onclose = (e) => resolve(e.code); });
  let nextId = 1;
  const request = (c, method, data = {}) => {
    const id = nextId++;
    c.ws.send(JSON.stringify({ request: true, id, method, data }));
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        const r = c.inbox.find((m) => m.response && m.id === id);
        if (r) return resolve(r);
        if (Date.now() - started > 10000) return reject(new Error(`no answer to ${method}`));
        setTimeout(poll, 20);
      };
      poll();
    });
  };
  const out = {};
  const m = await open('mallory');
  m.ws.send('{"request":true,"id":1,"method":');  // malformed JSON: dropped
  m.ws.send('[1,2,3]');                              // not an object: dropped
  out.unknownMethod = await request(m, 'fly');
  out.beforeJoin = await request(m, 'produce', { transportId: 'x', kind: 'audio', rtpParameters: {} });
  const caps = (await request(m, 'getRouterRtpCapabilities')).data;
  out.join = await request(m, 'join', { displayName: 'Mallory', device: { name: 'raw' }, rtpCapabilities: caps });
  out.unknownTransport = await request(m, 'connectWebRtcTransport', {
    transportId: 'nope', dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: '00' }] } });
  out.unknownProducer = await request(m, 'pauseProducer', { producerId: 'nope' });
  const t = (await request(m, 'createWebRtcTransport', { producing: true, consuming: false })).data.id;
  out.produceBeforeConnect = await request(m, 'produce', {
    transportId: t, kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 1111 }] } });
  // A flood: far more requests than the rate limit lets through at once.
  for (let i = 0; i < 1500; i++) m.ws.send(JSON.stringify({ request: true, id: 100000 + i, method: 'getTransportStats', data: { transportId: t } }));
  await new Promise((r) => setTimeout(r, 1500));
  out.floodAnswers = m.inbox.filter((x) => x.response && x.id >= 100000).map((x) => x.errorCode || 200)
    .reduce((acc, code) => { acc[code] = (acc[code] || 0) + 1; return acc; }, {});
  // An oversized message (weir's limit is 960000 bytes) closes that socket with 1009.
  const big = await open('bigmouth');
  const bigClosed = closed(big.ws);
  big.ws.send(JSON.stringify({ request: true, id: 1, method: 'join', data: { displayName: 'x'.repeat(1100000) } }));
  out.oversizedClose = await bigClosed;
  m.ws.close();
  return out;
}

describe('bad input over the WebSocket', { timeout: 90000 }, () => {
  it('is answered as the contract says while the room keeps its media', { timeout: 80000 }, async () => {
    const roomId = fx.newRoomId('bad');
    const [a, b] = await fx.openPeers(roomId, ['ba', 'bb']);
    await a.waitConsumers(['bb'], ['video']);
    await b.waitConsumers(['ba'], ['video']);
    await expectFlowing(a, ['bb'], 'video');

    const context = await fx.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${fx.weir.baseUrl}/index.html`, { timeout: 15000 }).catch(() => {});
    const misbehaviour = page.evaluate(misbehave, { roomId });
    // The browsers keep decoding each other while the flood and the rest go on.
    await expectFlowing(b, ['ba'], 'video');
    const out = await misbehaviour;
    await context.close();

    const reason = (r) => (r.ok === false ? `${r.errorCode} ${r.errorReason}` : 'ok');
    assert.equal(reason(out.unknownMethod), '500 unknown request.method "fly"');
    assert.equal(reason(out.beforeJoin), '500 Peer not yet joined');
    assert.equal(out.join.ok, true, `join: ${JSON.stringify(out.join)}`);
    assert.equal(reason(out.unknownTransport), '500 transport with id "nope" not found');
    assert.equal(reason(out.unknownProducer), '500 producer with id "nope" not found');
    assert.match(reason(out.produceBeforeConnect), /^500 transport with id ".*" is not connected/);
    assert.ok((out.floodAnswers[429] || 0) > 0, `flood answers: ${JSON.stringify(out.floodAnswers)}`);
    assert.ok((out.floodAnswers[200] || 0) > 0, `flood answers: ${JSON.stringify(out.floodAnswers)}`);
    assert.equal(out.oversizedClose, 1009);
    console.log(`# flood of 1500 requests: ${JSON.stringify(out.floodAnswers)} (code: count)`);

    // Mallory's join made her a peer: the browsers saw her arrive and leave, media went on.
    await expectFlowing(a, ['bb'], 'video');
    await expectFlowing(b, ['ba'], 'video');
  });
});
