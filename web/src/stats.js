// Live figures from the browser's own RTCPeerConnection stats: what the stats panel shows
// and what the test hook reports per consumer.

// Per-consumer receive figures from its RTCRtpReceiver.
export async function consumerReceiveStats(consumer) {
  const report = await consumer.getStats();
  for (const s of report.values()) {
    if (s.type !== 'inbound-rtp') continue;
    const codec = s.codecId ? report.get(s.codecId) : null;
    return {
      mimeType: codec ? codec.mimeType : undefined,
      packetsReceived: s.packetsReceived ?? 0,
      bytesReceived: s.bytesReceived ?? 0,
      packetsLost: s.packetsLost ?? 0,
      framesDecoded: s.framesDecoded ?? 0,
      frameWidth: s.frameWidth ?? 0,
      frameHeight: s.frameHeight ?? 0,
      framesPerSecond: s.framesPerSecond ?? 0,
      totalSamplesReceived: s.totalSamplesReceived ?? 0,
      jitter: s.jitter ?? 0,
      decoderImplementation: s.decoderImplementation,
    };
  }
  return null;
}

function sumTransport(report) {
  const out = { bytesSent: 0, bytesReceived: 0, packetsLost: 0, rtt: null };
  for (const s of report.values()) {
    if (s.type === 'outbound-rtp') out.bytesSent += s.bytesSent ?? 0;
    else if (s.type === 'inbound-rtp') {
      out.bytesReceived += s.bytesReceived ?? 0;
      out.packetsLost += s.packetsLost ?? 0;
    } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' &&
      typeof s.currentRoundTripTime === 'number') {
      out.rtt = s.currentRoundTripTime;
    } else if (s.type === 'remote-inbound-rtp' && out.rtt === null && typeof s.roundTripTime === 'number') {
      out.rtt = s.roundTripTime;
    }
  }
  return out;
}

// Turns successive samples of the two transports into rates.
export class TransportStatsSampler {
  constructor() {
    this.previous = null;
  }

  async sample(sendTransport, recvTransport) {
    const now = performance.now();
    const send = sendTransport && !sendTransport.closed ? sumTransport(await sendTransport.getStats()) : null;
    const recv = recvTransport && !recvTransport.closed ? sumTransport(await recvTransport.getStats()) : null;
    const current = {
      at: now,
      bytesSent: send ? send.bytesSent : 0,
      bytesReceived: recv ? recv.bytesReceived : 0,
    };
    let upKbps = null;
    let downKbps = null;
    if (this.previous) {
      const seconds = (now - this.previous.at) / 1000;
      if (seconds > 0) {
        upKbps = Math.max(0, (current.bytesSent - this.previous.bytesSent) * 8 / 1000 / seconds);
        downKbps = Math.max(0, (current.bytesReceived - this.previous.bytesReceived) * 8 / 1000 / seconds);
      }
    }
    this.previous = current;
    return {
      upKbps,
      downKbps,
      packetsLost: recv ? recv.packetsLost : 0,
      sendRttMs: send && send.rtt !== null ? send.rtt * 1000 : null,
      recvRttMs: recv && recv.rtt !== null ? recv.rtt * 1000 : null,
    };
  }
}
