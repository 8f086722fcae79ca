// One peer in a weir room: the protoo signaling and the mediasoup-client flow of the
// mediasoup-demo app (signaling contract §8.2). It knows nothing about the DOM; the UI
// listens to its events ('peers', 'consumers', 'chat', 'state', 'error', 'notification').

import * as mediasoupClient from 'mediasoup-client';
import protooClient from 'protoo-client';

// mediasoup-client 3.24 has no device.sctpCapabilities (contract §10): send fixed numbers.
const SCTP_CAPABILITIES = { numStreams: { OS: 1024, MIS: 1024 } };

// The demo's simulcast ladder, lowest first; the encoder keeps three layers only for a
// 1280x720 capture (contract §10).
const SIMULCAST_ENCODINGS = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 500000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 1000000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 5000000, scalabilityMode: 'L1T3' },
];

function browserDevice() {
  const match = navigator.userAgent.match(/(HeadlessChrome|Chrome|Chromium|Firefox|Safari)\/([\d.]+)/);
  const name = match ? match[1] : 'browser';
  return { flag: name.toLowerCase().replace('headless', ''), name, version: match ? match[2] : '' };
}

export class RoomClient extends EventTarget {
  constructor(options) {
    super();
    this.options = options;
    this.state = 'new';
    this.protoo = null;
    this.device = null;
    this.sendTransport = null;
    this.recvTransport = null;
    this.producers = new Map(); // kind ('audio' | 'video') -> Producer
    this.chatProducer = null;
    this.peers = new Map(); // peerId -> {id, displayName, device}
    this.consumers = new Map(); // consumerId -> {consumer, peerId, kind, type, remotelyPaused, layers, score}
    this.dataConsumers = new Map(); // dataConsumerId -> {dataConsumer, peerId, label}
    this.notifications = []; // {method, data, at}
    this.chat = []; // {peerId, displayName, text, at, own}
    this.errors = [];
    this.times = { wsOpen: null, joined: null, firstRemoteFrame: null };
    this.activeSpeaker = null;
    this._firstFramePoll = null;
  }

  // -- lifecycle ---------------------------------------------------------------

  connect() {
    const { roomId, peerId } = this.options;
    const url = `wss://${location.host}/?roomId=${encodeURIComponent(roomId)}&peerId=${encodeURIComponent(peerId)}`;
    this._setState('connecting');
    this.protoo = new protooClient.Peer(new protooClient.WebSocketTransport(url));
    this.protoo.on('open', () => {
      this.times.wsOpen = performance.now();
      this._join().catch((error) => this._fail('join', error));
    });
    this.protoo.on('failed', () => this._setState('failed'));
    this.protoo.on('disconnected', () => {
      // protoo-client reconnects to the same URL; the whole join flow runs again on 'open'.
      this._dropMedia();
      this._setState('reconnecting');
    });
    this.protoo.on('close', () => {
      this._dropMedia();
      this._setState('closed');
    });
    this.protoo.on('request', (request, accept, reject) => {
      this._onServerRequest(request, accept, reject).catch((error) => {
        this._fail(`server request ${request.method}`, error);
        reject(500, String(error));
      });
    });
    this.protoo.on('notification', (notification) => this._onNotification(notification));
  }

  close() {
    if (this.protoo) this.protoo.close();
  }

  async _join() {
    const { options } = this;
    const routerRtpCapabilities = await this.protoo.request('getRouterRtpCapabilities');
    this.device = new mediasoupClient.Device();
    await this.device.load({ routerRtpCapabilities });

    if (options.produce) this.sendTransport = await this._createTransport('send');
    if (options.consume) this.recvTransport = await this._createTransport('recv');

    const { peers } = await this.protoo.request('join', {
      displayName: options.displayName,
      device: browserDevice(),
      rtpCapabilities: options.consume ? this.device.recvRtpCapabilities : undefined,
      sctpCapabilities: options.consume ? SCTP_CAPABILITIES : undefined,
    });
    this.times.joined = performance.now();
    for (const peer of peers) this.peers.set(peer.id, { ...peer });
    this._setState('joined');
    this._emit('peers');

    if (options.produce) {
      const tasks = [];
      if (options.mic) tasks.push(this.enableMic());
      if (options.webcam) tasks.push(this.enableWebcam());
      tasks.push(this._enableChat());
      const results = await Promise.allSettled(tasks);
      for (const r of results) if (r.status === 'rejected') this._fail('produce', r.reason);
    }
  }

  async _createTransport(direction) {
    const producing = direction === 'send';
    const info = await this.protoo.request('createWebRtcTransport', {
      forceTcp: false,
      producing,
      consuming: !producing,
      sctpCapabilities: SCTP_CAPABILITIES,
    });
    const params = {
      id: info.id,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: { ...info.dtlsParameters, role: 'auto' },
      sctpParameters: info.sctpParameters,
      iceServers: [],
    };
    const transport = producing
      ? this.device.createSendTransport(params)
      : this.device.createRecvTransport(params);

    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.protoo.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters })
        .then(callback, errback);
    });
    transport.on('connectionstatechange', (state) => {
      this._emit('transportstate', { direction, state });
    });
    if (producing) {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.protoo.request('produce', { transportId: transport.id, kind, rtpParameters, appData })
          .then(({ id }) => callback({ id }), errback);
      });
      transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
        this.protoo.request('produceData', {
          transportId: transport.id, sctpStreamParameters, label, protocol, appData,
        }).then(({ id }) => callback({ id }), errback);
      });
    }
    return transport;
  }

  // Transports and consumers die with the socket; peers are announced again after rejoin.
  _dropMedia() {
    for (const t of [this.sendTransport, this.recvTransport]) if (t && !t.closed) t.close();
    this.sendTransport = null;
    this.recvTransport = null;
    this.producers.clear();
    this.chatProducer = null;
    this.consumers.clear();
    this.dataConsumers.clear();
    this.peers.clear();
    this._emit('producers');
    this._emit('consumers');
    this._emit('peers');
  }

  // -- producing -----------------------------------------------------------------

  async enableMic() {
    if (this.producers.has('audio') || !this.sendTransport) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const track = stream.getAudioTracks()[0];
    const producer = await this.sendTransport.produce({
      track,
      codecOptions: { opusStereo: true, opusFec: true },
      appData: {},
    });
    this._addProducer('audio', producer);
  }

  async enableWebcam() {
    if (this.producers.has('video') || !this.sendTransport) return;
    const { options } = this;
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: options.width }, height: { ideal: options.height }, frameRate: { ideal: 30 } },
    });
    const track = stream.getVideoTracks()[0];
    const mimeType = `video/${options.codec}`;
    const codec = this.device.sendRtpCapabilities.codecs.find(
      (c) => c.mimeType.toLowerCase() === mimeType &&
        // Of the two H264 profiles the router offers, constrained baseline is the one
        // every Chromium build encodes.
        (options.codec !== 'h264' || String(c.parameters['profile-level-id']).startsWith('42')),
    );
    if (!codec) throw new Error(`the router and this browser share no ${mimeType} codec`);
    const producer = await this.sendTransport.produce({
      track,
      codec,
      encodings: options.simulcast ? SIMULCAST_ENCODINGS.map((e) => ({ ...e })) : undefined,
      codecOptions: { videoGoogleStartBitrate: 1000 },
      appData: {},
    });
    this._addProducer('video', producer);
  }

  _addProducer(kind, producer) {
    this.producers.set(kind, producer);
    producer.on('transportclose', () => this._forgetProducer(kind, producer));
    producer.on('trackended', () => this.closeProducer(kind).catch(() => {}));
    this._emit('producers');
  }

  _forgetProducer(kind, producer) {
    if (this.producers.get(kind) === producer) this.producers.delete(kind);
    this._emit('producers');
  }

  async closeProducer(kind) {
    const producer = this.producers.get(kind);
    if (!producer) return;
    producer.close();
    if (producer.track) producer.track.stop();
    this._forgetProducer(kind, producer);
    await this.protoo.request('closeProducer', { producerId: producer.id });
  }

  async pauseProducer(kind) {
    const producer = this.producers.get(kind);
    if (!producer) throw new Error(`no ${kind} producer`);
    producer.pause();
    await this.protoo.request('pauseProducer', { producerId: producer.id });
    this._emit('producers');
  }

  async resumeProducer(kind) {
    const producer = this.producers.get(kind);
    if (!producer) throw new Error(`no ${kind} producer`);
    producer.resume();
    await this.protoo.request('resumeProducer', { producerId: producer.id });
    this._emit('producers');
  }

  async _enableChat() {
    if (!this.sendTransport) return;
    this.chatProducer = await this.sendTransport.produceData({
      ordered: false,
      maxRetransmits: 1,
      label: 'chat',
      priority: 'medium',
      appData: { info: 'my-chat-DataProducer' },
    });
    this.chatProducer.on('transportclose', () => { this.chatProducer = null; });
  }

  async sendChat(text) {
    const producer = this.chatProducer;
    if (!producer) throw new Error('chat is not available (no data producer)');
    if (producer.readyState !== 'open') {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('chat channel did not open')), 10000);
        producer.on('open', () => { clearTimeout(timer); resolve(); });
      });
    }
    producer.send(text);
    this.chat.push({ peerId: this.options.peerId, displayName: this.options.displayName, text, at: Date.now(), own: true });
    this._emit('chat');
  }

  async changeDisplayName(displayName) {
    await this.protoo.request('changeDisplayName', { displayName });
    this.options.displayName = displayName;
    this._emit('me');
  }

  // -- ICE, layers, stats --------------------------------------------------------

  async restartIce() {
    for (const transport of [this.sendTransport, this.recvTransport]) {
      if (!transport) continue;
      const iceParameters = await this.protoo.request('restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters });
    }
  }

  async setConsumerPreferredLayers(consumerId, spatialLayer, temporalLayer) {
    await this.protoo.request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  async serverStats(method, idField, id) {
    return this.protoo.request(method, { [idField]: id });
  }

  // -- server requests and notifications -----------------------------------------

  async _onServerRequest(request, accept, reject) {
    switch (request.method) {
      case 'newConsumer': {
        if (!this.recvTransport) { reject(403, 'I do not want to consume'); return; }
        const { peerId, producerId, id, kind, rtpParameters, type, appData, producerPaused } = request.data;
        if (!this.peers.has(peerId)) throw new Error(`no Peer found for new Consumer (peerId ${peerId})`);
        const consumer = await this.recvTransport.consume({
          id,
          producerId,
          kind,
          rtpParameters,
          // One stream per peer so the browser keeps its audio and video in sync.
          streamId: `${peerId}-${appData && appData.share ? 'share' : 'mic-webcam'}`,
          appData: { ...appData, peerId },
        });
        this.consumers.set(consumer.id, {
          consumer, peerId, kind, type, producerId,
          remotelyPaused: Boolean(producerPaused), layers: null, score: null,
        });
        consumer.on('transportclose', () => this._forgetConsumer(consumer.id));
        accept();
        this._emit('consumers');
        if (kind === 'video') this._watchFirstFrame();
        return;
      }
      case 'newDataConsumer': {
        if (!this.recvTransport) { reject(403, 'I do not want to data consume'); return; }
        const { peerId, dataProducerId, id, sctpStreamParameters, label, protocol, appData } = request.data;
        const dataConsumer = await this.recvTransport.consumeData({
          id, dataProducerId, sctpStreamParameters, label, protocol, appData: { ...appData, peerId },
        });
        this.dataConsumers.set(dataConsumer.id, { dataConsumer, peerId, label });
        dataConsumer.on('message', (message) => this._onDataMessage(peerId, label, message));
        dataConsumer.on('transportclose', () => this.dataConsumers.delete(dataConsumer.id));
        accept();
        return;
      }
      default:
        reject(500, `unknown request.method "${request.method}"`);
    }
  }

  _onDataMessage(peerId, label, message) {
    const text = typeof message === 'string' ? message : `[${message.byteLength ?? message.size} bytes]`;
    const peer = peerId ? this.peers.get(peerId) : null;
    const displayName = peerId === null || peerId === undefined ? 'bot' : (peer ? peer.displayName : peerId);
    this.chat.push({ peerId: peerId ?? null, displayName, label, text, at: Date.now(), own: false });
    this._emit('chat');
  }

  _onNotification({ method, data }) {
    this.notifications.push({ method, data, at: performance.now() });
    if (this.notifications.length > 2000) this.notifications.splice(0, 1000);
    switch (method) {
      case 'newPeer':
        this.peers.set(data.id, { ...data });
        this._emit('peers');
        break;
      case 'peerClosed':
        this.peers.delete(data.peerId);
        this._emit('peers');
        break;
      case 'peerDisplayNameChanged': {
        const peer = this.peers.get(data.peerId);
        if (peer) peer.displayName = data.displayName;
        this._emit('peers');
        break;
      }
      case 'consumerClosed': {
        const entry = this.consumers.get(data.consumerId);
        if (entry) entry.consumer.close();
        this._forgetConsumer(data.consumerId);
        break;
      }
      case 'consumerPaused':
      case 'consumerResumed': {
        const entry = this.consumers.get(data.consumerId);
        if (entry) entry.remotelyPaused = method === 'consumerPaused';
        this._emit('consumers');
        break;
      }
      case 'consumerLayersChanged': {
        const entry = this.consumers.get(data.consumerId);
        if (entry) entry.layers = { spatialLayer: data.spatialLayer, temporalLayer: data.temporalLayer };
        this._emit('consumers');
        break;
      }
      case 'consumerScore': {
        const entry = this.consumers.get(data.consumerId);
        if (entry) entry.score = data.score;
        break;
      }
      case 'dataConsumerClosed': {
        const entry = this.dataConsumers.get(data.dataConsumerId);
        if (entry) entry.dataConsumer.close();
        this.dataConsumers.delete(data.dataConsumerId);
        break;
      }
      case 'activeSpeaker':
        this.activeSpeaker = data.peerId ?? null;
        this._emit('peers');
        break;
      default:
        break; // producerScore, downlinkBwe, mediasoup-version: kept in the log only
    }
    this._emit('notification', { method, data });
  }

  _forgetConsumer(consumerId) {
    if (this.consumers.delete(consumerId)) this._emit('consumers');
  }

  // The time from WebSocket open to the first decoded remote video frame: poll the
  // receivers until one reports a decoded frame (a 50 ms grain is enough for a figure
  // measured in hundreds of milliseconds).
  _watchFirstFrame() {
    if (this.times.firstRemoteFrame !== null || this._firstFramePoll) return;
    this._firstFramePoll = setInterval(async () => {
      for (const { consumer, kind } of this.consumers.values()) {
        if (kind !== 'video' || consumer.closed) continue;
        const report = await consumer.getStats();
        for (const s of report.values()) {
          if (s.type === 'inbound-rtp' && s.framesDecoded > 0 && this.times.firstRemoteFrame === null) {
            this.times.firstRemoteFrame = performance.now();
            clearInterval(this._firstFramePoll);
            this._firstFramePoll = null;
            return;
          }
        }
      }
    }, 50);
  }

  // -- helpers -------------------------------------------------------------------

  _setState(state) {
    this.state = state;
    this._emit('state', { state });
  }

  _fail(what, error) {
    const message = `${what}: ${error && error.message ? error.message : error}`;
    console.error(message);
    this.errors.push(message);
    this._emit('error', { message });
  }

  _emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
