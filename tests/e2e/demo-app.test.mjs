// The demo app as a person uses it: a remote tile with playing video and the peer's name,
// chat through the form, the mute button, the stats panel. Saves a screenshot.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { artifactDir, waitFor } from './lib/browser.mjs';
import { useWeirAndBrowser } from './lib/room.mjs';

const fx = useWeirAndBrowser();

// The remote tile's <video>: is it playing, and how far has it got?
function tileVideo(peer, remoteId) {
  return peer.page.evaluate((id) => {
    const tile = document.querySelector(`.tile.remote[data-peer-id="${id}"]`);
    if (!tile) return null;
    const v = tile.querySelector('video');
    return {
      name: tile.querySelector('.name').textContent,
      badge: tile.querySelector('.badge').textContent,
      readyState: v.readyState,
      paused: v.paused,
      currentTime: v.currentTime,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
    };
  }, remoteId);
}

describe('demo app', { timeout: 90000 }, () => {
  it('shows a remote tile with playing video, chat, mute and stats', { timeout: 80000 }, async () => {
    const room = fx.newRoomId('demo');
    const [ann, ben] = await fx.openPeers(room, ['ann', 'ben']);

    await waitFor(async () => {
      const v = await tileVideo(ben, 'ann');
      return v && v.readyState >= 2 && !v.paused && v.videoWidth > 0 && v.currentTime > 1;
    }, { timeout: 30000, what: 'ann\'s tile at ben to play video', describe: async () => ({ tile: await tileVideo(ben, 'ann'), ...(await ben.describe()) }) });
    const first = await tileVideo(ben, 'ann');
    await new Promise((r) => setTimeout(r, 1500));
    const later = await tileVideo(ben, 'ann');
    assert.ok(later.currentTime > first.currentTime + 0.5, `video time ${first.currentTime} -> ${later.currentTime}`);
    assert.equal(later.name, 'ann');

    // The stats panel shows what arrives.
    const received = await ben.page.evaluate(() => {
      const row = [...document.querySelectorAll('#stats-body tr')].find((r) => r.firstChild.textContent === 'receiving');
      return row ? row.lastChild.textContent : null;
    });
    assert.match(received || '', /bit\/s$/, `receiving row: ${received}`);
    assert.notEqual(received, '0 kbit/s');

    // Chat through the form.
    await ann.page.fill('#chat-input', 'typed by ann');
    await ann.page.press('#chat-input', 'Enter');
    await waitFor(() => ben.page.evaluate(() => document.querySelector('#chat-log').textContent.includes('typed by ann')),
      { timeout: 10000, what: 'ann\'s typed message in ben\'s chat log', describe: () => ben.chat() });

    // The mute button pauses ann's microphone; ben's tile says so.
    await ann.page.click('#mic');
    await waitFor(async () => (await tileVideo(ben, 'ann')).badge.includes('muted'),
      { timeout: 10000, what: 'ben\'s tile of ann to show "muted"', describe: () => tileVideo(ben, 'ann') });
    await ann.page.click('#mic');
    await waitFor(async () => !(await tileVideo(ben, 'ann')).badge.includes('muted'),
      { timeout: 10000, what: 'ben\'s tile of ann to drop "muted"', describe: () => tileVideo(ben, 'ann') });

    await new Promise((r) => setTimeout(r, 1200)); // one stats refresh with the current figures
    const file = path.join(artifactDir(), 'demo-app-remote-tile.png');
    await ben.page.screenshot({ path: file });
    console.log(`# screenshot: ${file}`);
  });
});
