// ffmpeg as a broadcaster (contract §7, the demo's ffmpeg.sh flow over HTTPS): two plain
// transports with comedia and rtcpMux false, an opus and a VP8 producer, ffmpeg sending
// RTP to them; a browser peer in the room decodes the video and receives the audio.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { expectFlowing, waitFor } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();

describe('ffmpeg broadcaster', { timeout: 90000 }, () => {
  it('a browser peer decodes what ffmpeg pushes through the broadcaster API', { timeout: 80000 }, async () => {
    const room = fx.newRoomId('ffmpeg');
    const [viewer] = await fx.openPeers(room, ['viewer'], { produce: '0' });
    const { weir } = fx;
    const base = `/rooms/${room}`;
    const bid = `ffmpeg${Math.random().toString(16).slice(2, 12)}`;

    await weir.api('GET', base);
    await weir.api('POST', `${base}/broadcasters`, { id: bid, displayName: 'Broadcaster', device: { name: 'FFmpeg' } });
    await waitFor(async () => (await viewer.notifications()).some((n) => n.method === 'newPeer' && n.data.id === bid),
      { timeout: 10000, what: 'newPeer for the broadcaster at the viewer', describe: () => viewer.describe() });
    const transports = {};
    for (const kind of ['audio', 'video']) {
      transports[kind] = await weir.api('POST', `${base}/broadcasters/${bid}/transports`, { type: 'plain', comedia: true, rtcpMux: false });
      assert.ok(transports[kind].port && transports[kind].rtcpPort, `plain transport: ${JSON.stringify(transports[kind])}`);
    }
    await weir.api('POST', `${base}/broadcasters/${bid}/transports/${transports.audio.id}/producers`, {
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }],
        encodings: [{ ssrc: 1111 }],
      },
    });
    await weir.api('POST', `${base}/broadcasters/${bid}/transports/${transports.video.id}/producers`, {
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/vp8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 2222 }] },
    });

    const target = (t) => `rtp://${t.ip}:${t.port}?rtcpport=${t.rtcpPort}&pkt_size=1200`;
    const ffmpegLog = [];
    const ffmpeg = spawn('ffmpeg', [
      '-nostdin', '-hide_banner', '-loglevel', 'warning', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '60',
      '-map', '0:v:0', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-b:v', '800k',
      '-f', 'rtp', '-ssrc', '2222', '-payload_type', '101', target(transports.video),
      '-map', '1:a:0', '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k',
      '-f', 'rtp', '-ssrc', '1111', '-payload_type', '100', target(transports.audio),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    ffmpeg.stderr.on('data', (d) => { ffmpegLog.push(d.toString()); if (ffmpegLog.length > 50) ffmpegLog.shift(); });
    const ffmpegExit = new Promise((resolve) => ffmpeg.on('exit', (code) => resolve(code)));
    try {
      await viewer.waitConsumers([bid], ['audio', 'video'], 20000);
      await expectFlowing(viewer, [bid], 'video');
      await expectFlowing(viewer, [bid], 'audio', { samples: 2 });
      const stats = (await viewer.consumerStats()).find((s) => s.peerId === bid && s.kind === 'video');
      assert.equal(stats.frameWidth, 640, `decoded width ${stats.frameWidth}`);
      assert.equal(ffmpeg.exitCode, null, `ffmpeg exited early: ${ffmpegLog.join('')}`);
    } catch (error) {
      error.message += `\nffmpeg log: ${ffmpegLog.join('').slice(-2000)}`;
      throw error;
    } finally {
      if (ffmpeg.exitCode === null) ffmpeg.kill('SIGTERM');
      await ffmpegExit;
    }

    // The script's exit: DELETE the broadcaster; the viewer sees it leave.
    await weir.api('DELETE', `${base}/broadcasters/${bid}`);
    await waitFor(async () => (await viewer.notifications()).some((n) => n.method === 'peerClosed' && n.data.peerId === bid),
      { timeout: 10000, what: 'peerClosed for the broadcaster at the viewer', describe: () => viewer.describe() });
  });
});
