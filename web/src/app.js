// Entry point of the demo page: read the URL, join, render, expose the test hook.

import { readOptions, canonicalSearch } from './options.js';
import { RoomClient } from './room-client.js';
import { RoomView } from './ui.js';
import { installTestHook } from './test-hook.js';

function start() {
  let options;
  try {
    options = readOptions(location);
  } catch (error) {
    document.querySelector('#status').textContent = error.message;
    return;
  }
  // Keep the random defaults in the address bar so a reload rejoins as the same peer.
  history.replaceState(null, '', canonicalSearch(options));
  const client = new RoomClient(options);
  installTestHook(client);
  new RoomView(client, document.body);
  client.connect();
  window.addEventListener('beforeunload', () => client.close());
}

start();
