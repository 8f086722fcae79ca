// window.__weir: what the end-to-end tests read and drive. Everything here goes through
// the same RoomClient the page's buttons use.

import { consumerReceiveStats } from './stats.js';

export function installTestHook(client) {
  window.__weir = {
    get state() { return client.state; },
    get errors() { return client.errors.slice(); },
    get times() { return { ...client.times }; },
    get peers() { return [...client.peers.values()].map((p) => ({ id: p.id, displayName: p.displayName })); },
    get producers() {
      return [...client.producers.entries()].map(([kind, p]) => ({ kind, id: p.id, paused: p.paused }));
    },
    get consumers() {
      return [...client.consumers.values()].map((c) => ({
        id: c.consumer.id,
        kind: c.kind,
        peerId: c.peerId,
        producerId: c.producerId,
        type: c.type,
        remotelyPaused: c.remotelyPaused,
        layers: c.layers,
      }));
    },
    get dataConsumers() {
      return [...client.dataConsumers.values()].map((d) => ({ id: d.dataConsumer.id, peerId: d.peerId, label: d.label }));
    },
    get notifications() { return client.notifications.map(({ method, data, at }) => ({ method, data, at })); },
    get chat() { return client.chat.map((m) => ({ ...m })); },
    // Receive figures of every live consumer: [{id, kind, peerId, framesDecoded, frameWidth, ...}].
    async consumerStats() {
      const out = [];
      for (const c of client.consumers.values()) {
        if (c.consumer.closed) continue;
        const stats = await consumerReceiveStats(c.consumer);
        out.push({ id: c.consumer.id, kind: c.kind, peerId: c.peerId, ...(stats || {}) });
      }
      return out;
    },
    // The video producer's encodings as the browser sends them: [{rid, frameWidth, bytesSent, ...}].
    async outboundVideo() {
      const producer = client.producers.get('video');
      if (!producer) return [];
      const out = [];
      for (const s of (await producer.getStats()).values()) {
        if (s.type !== 'outbound-rtp') continue;
        out.push({
          rid: s.rid, ssrc: s.ssrc, frameWidth: s.frameWidth, bytesSent: s.bytesSent,
          framesEncoded: s.framesEncoded, qualityLimitationReason: s.qualityLimitationReason, active: s.active,
        });
      }
      return out;
    },
    sendChat: (text) => client.sendChat(text),
    pauseProducer: (kind) => client.pauseProducer(kind),
    resumeProducer: (kind) => client.resumeProducer(kind),
    closeProducer: (kind) => client.closeProducer(kind),
    restartIce: () => client.restartIce(),
    setConsumerPreferredLayers: (consumerId, spatialLayer, temporalLayer) =>
      client.setConsumerPreferredLayers(consumerId, spatialLayer, temporalLayer),
    leave: () => client.close(),
  };
}
