// The page: one tile per peer (own preview first), the controls, chat and the stats panel.
// It renders what the RoomClient holds and calls its methods; no signaling here.

import { TransportStatsSampler, consumerReceiveStats } from './stats.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
}

function formatKbps(kbps) {
  if (kbps === null) return '–';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mbit/s` : `${kbps.toFixed(0)} kbit/s`;
}

function formatMs(ms) {
  return ms === null ? '–' : `${ms.toFixed(1)} ms`;
}

export class RoomView {
  constructor(client, root) {
    this.client = client;
    this.root = root;
    this.tiles = new Map(); // peerId -> {tile, video, audio, name, info, badge}
    this.sampler = new TransportStatsSampler();

    this.grid = root.querySelector('#tiles');
    this.statusLine = root.querySelector('#status');
    this.micButton = root.querySelector('#mic');
    this.webcamButton = root.querySelector('#webcam');
    this.chatLog = root.querySelector('#chat-log');
    this.chatForm = root.querySelector('#chat-form');
    this.chatInput = root.querySelector('#chat-input');
    this.nameInput = root.querySelector('#display-name');
    this.statsBody = root.querySelector('#stats-body');
    this.errorBox = root.querySelector('#errors');

    this.selfTile = this._makeTile('me', true);
    this.grid.append(this.selfTile.tile);

    root.querySelector('#room-id').textContent = client.options.roomId;
    root.querySelector('#invite').href = this._inviteLink();
    this.nameInput.value = client.options.displayName;

    this._wireControls();
    for (const type of ['peers', 'consumers', 'producers', 'me']) {
      client.addEventListener(type, () => this.render());
    }
    client.addEventListener('state', () => this.render());
    client.addEventListener('chat', () => this.renderChat());
    client.addEventListener('error', (e) => this._showError(e.detail.message));
    this.render();
    setInterval(() => this.refreshStats().catch(() => {}), 1000);
  }

  _inviteLink() {
    const url = new URL(location.href);
    url.search = '';
    url.searchParams.set('roomId', this.client.options.roomId);
    return url.toString();
  }

  _wireControls() {
    const { client } = this;
    this.micButton.addEventListener('click', () => {
      const mic = client.producers.get('audio');
      const action = !mic ? client.enableMic() : mic.paused ? client.resumeProducer('audio') : client.pauseProducer('audio');
      action.catch((error) => this._showError(`mic: ${error.message}`)).finally(() => this.render());
    });
    this.webcamButton.addEventListener('click', () => {
      const action = client.producers.has('video') ? client.closeProducer('video') : client.enableWebcam();
      action.catch((error) => this._showError(`webcam: ${error.message}`)).finally(() => this.render());
    });
    this.chatForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.chatInput.value.trim();
      if (!text) return;
      this.chatInput.value = '';
      client.sendChat(text).catch((error) => this._showError(`chat: ${error.message}`));
    });
    this.nameInput.addEventListener('change', () => {
      const name = this.nameInput.value.trim();
      if (name && name !== client.options.displayName) {
        client.changeDisplayName(name).catch((error) => this._showError(`name: ${error.message}`));
      }
    });
  }

  _makeTile(peerId, self) {
    const video = el('video', { autoplay: true, playsInline: true, muted: true });
    const audio = el('audio', { autoplay: true });
    const name = el('span', { class: 'name' });
    const badge = el('span', { class: 'badge' });
    const info = el('span', { class: 'info' });
    const tile = el('div', { class: self ? 'tile self' : 'tile remote', 'data-peer-id': peerId },
      video, audio, el('div', { class: 'label' }, name, badge, info));
    return { tile, video, audio, name, badge, info };
  }

  render() {
    const { client } = this;
    this.statusLine.textContent = client.state;
    this.statusLine.dataset.state = client.state;

    const mic = client.producers.get('audio');
    this.micButton.textContent = !mic ? 'Mic on' : mic.paused ? 'Unmute' : 'Mute';
    this.micButton.classList.toggle('off', !mic || mic.paused);
    this.webcamButton.textContent = client.producers.has('video') ? 'Webcam off' : 'Webcam on';
    this.webcamButton.classList.toggle('off', !client.producers.has('video'));
    this.micButton.disabled = !client.sendTransport;
    this.webcamButton.disabled = !client.sendTransport;

    const webcam = client.producers.get('video');
    this._setTracks(this.selfTile, webcam ? [webcam.track] : [], []);
    this.selfTile.name.textContent = `${client.options.displayName} (you)`;
    this.selfTile.badge.textContent = mic && mic.paused ? 'muted' : '';

    for (const [peerId, view] of this.tiles) {
      if (!client.peers.has(peerId)) {
        view.tile.remove();
        this.tiles.delete(peerId);
      }
    }
    for (const peer of client.peers.values()) {
      let view = this.tiles.get(peer.id);
      if (!view) {
        view = this._makeTile(peer.id, false);
        this.tiles.set(peer.id, view);
        this.grid.append(view.tile);
      }
      const mine = [...client.consumers.values()].filter((c) => c.peerId === peer.id && !c.consumer.closed);
      const videoTracks = mine.filter((c) => c.kind === 'video').map((c) => c.consumer.track);
      const audioTracks = mine.filter((c) => c.kind === 'audio').map((c) => c.consumer.track);
      this._setTracks(view, videoTracks.slice(0, 1), audioTracks);
      view.name.textContent = peer.displayName || peer.id;
      const paused = mine.filter((c) => c.remotelyPaused).map((c) => (c.kind === 'audio' ? 'muted' : 'video paused'));
      view.badge.textContent = paused.join(', ');
      view.tile.classList.toggle('no-video', videoTracks.length === 0);
      view.tile.classList.toggle('speaking', client.activeSpeaker === peer.id);
    }
    this.grid.dataset.count = String(this.tiles.size + 1);
  }

  _setTracks(view, videoTracks, audioTracks) {
    const same = (stream, tracks) => {
      const current = stream ? stream.getTracks() : [];
      return current.length === tracks.length && tracks.every((t) => current.includes(t));
    };
    if (!same(view.video.srcObject, videoTracks)) {
      view.video.srcObject = videoTracks.length ? new MediaStream(videoTracks) : null;
      if (videoTracks.length) view.video.play().catch(() => {});
    }
    if (view.tile.classList.contains('self')) return;
    if (!same(view.audio.srcObject, audioTracks)) {
      view.audio.srcObject = audioTracks.length ? new MediaStream(audioTracks) : null;
      if (audioTracks.length) view.audio.play().catch(() => {});
    }
  }

  renderChat() {
    const messages = this.client.chat;
    while (this.chatLog.children.length < messages.length) {
      const m = messages[this.chatLog.children.length];
      const line = el('li', { class: m.own ? 'own' : '' },
        el('span', { class: 'who' }, m.own ? 'you' : m.displayName), el('span', { class: 'text' }, m.text));
      this.chatLog.append(line);
    }
    this.chatLog.scrollTop = this.chatLog.scrollHeight;
  }

  async refreshStats() {
    const { client } = this;
    const t = await this.sampler.sample(client.sendTransport, client.recvTransport);
    const rows = [
      ['sending', formatKbps(t.upKbps)],
      ['receiving', formatKbps(t.downKbps)],
      ['packets lost (received)', String(t.packetsLost)],
      ['RTT (send transport)', formatMs(t.sendRttMs)],
      ['RTT (receive transport)', formatMs(t.recvRttMs)],
      ['peers in room', String(client.peers.size)],
      ['consumers', String(client.consumers.size)],
    ];
    this.statsBody.replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));

    for (const [peerId, view] of this.tiles) {
      const video = [...client.consumers.values()].find((c) => c.peerId === peerId && c.kind === 'video' && !c.consumer.closed);
      if (!video) { view.info.textContent = ''; continue; }
      const s = await consumerReceiveStats(video.consumer);
      view.info.textContent = s && s.frameWidth
        ? `${s.frameWidth}x${s.frameHeight} · ${Math.round(s.framesPerSecond)} fps` : '';
    }
  }

  _showError(message) {
    const line = el('div', { class: 'error' }, message);
    this.errorBox.append(line);
    setTimeout(() => line.remove(), 8000);
  }
}
