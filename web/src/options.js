// Room options from the page URL. Everything a test needs to vary is a query parameter,
// so the same page serves people and the end-to-end tests.

function randomId(length) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

function flag(params, name, fallback) {
  const value = params.get(name);
  if (value === null) return fallback;
  return value === '1' || value === 'true';
}

export function readOptions(location) {
  const params = new URLSearchParams(location.search);
  const codec = (params.get('codec') || 'vp8').toLowerCase();
  if (codec !== 'vp8' && codec !== 'h264' && codec !== 'vp9') {
    throw new Error(`unsupported ?codec=${codec} (vp8, vp9 or h264)`);
  }
  const simulcast = flag(params, 'simulcast', false);
  return {
    roomId: params.get('roomId') || randomId(8),
    peerId: params.get('peerId') || randomId(8),
    displayName: params.get('displayName') || `guest-${randomId(4)}`,
    codec,
    simulcast,
    produce: flag(params, 'produce', true),
    consume: flag(params, 'consume', true),
    mic: flag(params, 'mic', true),
    webcam: flag(params, 'webcam', true),
    // Chromium drops simulcast layers for small captures: three layers need 1280x720.
    width: Number(params.get('width')) || (simulcast ? 1280 : 640),
    height: Number(params.get('height')) || (simulcast ? 720 : 360),
  };
}

// The URL a page must have so that a reload joins the same room as the same peer.
export function canonicalSearch(options) {
  const params = new URLSearchParams(location.search);
  params.set('roomId', options.roomId);
  params.set('peerId', options.peerId);
  params.set('displayName', options.displayName);
  return `?${params.toString()}`;
}
