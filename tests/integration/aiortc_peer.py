"""aiortc (Debian's python3-aiortc) as an independent WebRTC peer for weir's integration tests.

aiortc shares no code with weir: its own ICE (aioice), DTLS (pyOpenSSL), SRTP (pylibsrtp),
RTP stack and VP8 codec (libvpx). These helpers let it talk to weir's broadcaster API the
way mediasoup-client talks to a mediasoup server:

- Publisher: aiortc is the offerer (a sendonly VP8 transceiver with RTX); the answer is
  built from the WebRTC transport weir created (ICE-lite, DTLS fingerprint, candidates),
  and the producer's rtpParameters are read from aiortc's own offer.
- Subscriber: weir's side is the offerer, as on mediasoup-client's receive transport: the
  offer is built from the consumer's rtpParameters and the transport's ICE/DTLS
  parameters; aiortc answers, and its answer gives the DTLS role and fingerprint to
  connect with.

Also here: the loopback patch aioice needs (use_loopback_only), a synthetic video track,
the consumer's rtpCapabilities, and an observer of what aiortc's VP8 decoder is fed.
Everything goes through python3 (standard library) + aiortc; HTTP is the caller's business.
"""

import os
import sys

# ---------------------------------------------------------------------------------------
# The interpreter. meson runs `python3` from PATH; on a machine where that is not Debian's
# interpreter (a pyenv or venv python3 first in PATH), Debian's python3-aiortc is not
# importable from it. Then re-run the same script under /usr/bin/python3, once, with the
# same arguments; without aiortc anywhere, fail loudly (the tests must not skip).

_SYSTEM_PYTHON = "/usr/bin/python3"
_REEXEC_MARK = "WEIR_AIORTC_REEXEC"

try:
    import aiortc  # noqa: F401
except ImportError:
    if (os.environ.get(_REEXEC_MARK) != "1" and os.path.exists(_SYSTEM_PYTHON)
            and os.path.realpath(sys.executable) != os.path.realpath(_SYSTEM_PYTHON)
            and sys.argv and os.path.isfile(sys.argv[0])):  # a script, not -c or -m
        os.environ[_REEXEC_MARK] = "1"
        sys.stdout.flush()
        os.execv(_SYSTEM_PYTHON, [_SYSTEM_PYTHON] + sys.argv)
    raise ImportError("aiortc is not importable from " + sys.executable +
                      " (install the Debian package python3-aiortc)")

import asyncio
import random
import time

import aioice.ice
import av
from aiortc import (RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription)
from aiortc.codecs import CODECS as AIORTC_CODECS
from aiortc.codecs import HEADER_EXTENSIONS as AIORTC_HEADER_EXTENSIONS
from aiortc.codecs import vpx as aiortc_vpx
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

# ---------------------------------------------------------------------------------------
# ICE on loopback
#
# aioice 0.8.0 (aioice/ice.py) gathers host candidates in Connection.gather_candidates()
# from the module-level function get_host_addresses(use_ipv4, use_ipv6), which walks
# netifaces.interfaces() and explicitly skips "127.0.0.1" and "::1" (and scoped IPv6
# addresses). So aiortc never offers a loopback candidate: on a machine with eth0 it
# offers that interface's addresses instead (here 192.0.2.2 and fd00::2), and with only
# `lo` it offers nothing at all. weir listens on 127.0.0.1, and every packet of these
# tests must stay on loopback, so the function is replaced by one that returns exactly
# 127.0.0.1: one IPv4 host candidate per component, bound to 127.0.0.1. With iceServers=[]
# there is no STUN or TURN server, hence no server-reflexive or relay candidate either.

def _loopback_host_addresses(use_ipv4, use_ipv6):
    return ["127.0.0.1"] if use_ipv4 else []


def use_loopback_only():
    """Makes aioice gather 127.0.0.1 as its only host address (see above). Idempotent."""
    aioice.ice.get_host_addresses = _loopback_host_addresses


def rtc_configuration():
    """No ICE servers: aiortc's default is a public STUN server, which must not be used."""
    return RTCConfiguration(iceServers=[])


# ---------------------------------------------------------------------------------------
# A synthetic video source

class PatternVideoTrack(VideoStreamTrack):
    """A moving diagonal gradient, width x height, yuv420p, 30 fps (VideoStreamTrack's
    pacing). Built with plain bytes: no numpy."""

    def __init__(self, width=320, height=240):
        super().__init__()
        self.width = width
        self.height = height
        self.frames_sent = 0
        self._ramp = bytes(range(256)) * (width // 256 + 3)

    def _plane_bytes(self, plane, shift):
        stride, rows = plane.line_size, plane.height
        ramp = self._ramp
        return b"".join(ramp[(shift + y) % 256:(shift + y) % 256 + stride] for y in range(rows))

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        n = self.frames_sent
        for index, plane in enumerate(frame.planes):
            plane.update(self._plane_bytes(plane, 4 * n if index == 0 else 64 * index + n))
        frame.pts = pts
        frame.time_base = time_base
        self.frames_sent += 1
        return frame


# ---------------------------------------------------------------------------------------
# What aiortc's VP8 decoder is fed (to see that a consumer starts on a key frame and that
# a PLI gets one). Wraps aiortc.codecs.vpx.Vp8Decoder.decode, which runs in aiortc's
# decoder thread; one receiving peer per process at a time is assumed.

class Vp8DecodeObserver:
    def __init__(self):
        self.reset()

    def reset(self):
        self.inputs = 0          # encoded frames given to the decoder
        self.key_inputs = 0      # of which key frames (VP8 frame tag bit 0 clear)
        self.first_is_key = None
        self.failed = 0          # encoded frames that produced no picture

    def install(self):
        if getattr(aiortc_vpx.Vp8Decoder.decode, "_weir_observer", None) is self:
            return
        original = aiortc_vpx.Vp8Decoder.decode
        observer = self

        def decode(decoder, encoded_frame):
            data = encoded_frame.data
            key = len(data) > 0 and (data[0] & 0x01) == 0
            if observer.first_is_key is None:
                observer.first_is_key = key
            observer.inputs += 1
            observer.key_inputs += int(key)
            frames = original(decoder, encoded_frame)
            if not frames:
                observer.failed += 1
            return frames

        decode._weir_observer = self
        aiortc_vpx.Vp8Decoder.decode = decode

    def summary(self):
        return {"inputs": self.inputs, "keyFrames": self.key_inputs,
                "firstIsKey": self.first_is_key, "undecodable": self.failed}


vp8_decode_observer = Vp8DecodeObserver()


# ---------------------------------------------------------------------------------------
# SDP parsing (of aiortc's own descriptions)

def _number_or_string(value):
    try:
        return int(value)
    except ValueError:
        return value


def parse_sdp(text):
    """{"session": [(attr, value)], "media": [{"kind", "port", "proto", "fmts",
    "attrs": [(attr, value)]}]}; value is None for flag attributes (a=rtcp-mux)."""
    session = {"session": [], "media": []}
    current = session["session"]
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            kind, port, proto, *fmts = line[2:].split()
            media = {"kind": kind, "port": int(port), "proto": proto, "fmts": fmts, "attrs": []}
            session["media"].append(media)
            current = media["attrs"]
        elif line.startswith("a="):
            name, sep, value = line[2:].partition(":")
            current.append((name, value if sep else None))
    return session


def _attrs(section, name):
    return [value for attr, value in section if attr == name]


def _attr(section, name):
    values = _attrs(section, name)
    return values[0] if values else None


def media_section(sdp_text, kind="video"):
    for media in parse_sdp(sdp_text)["media"]:
        if media["kind"] == kind:
            return media
    raise ValueError(f"no m={kind} section in the SDP")


def dtls_parameters_from_sdp(sdp_text, kind="video"):
    """{"role": "client"|"server"|"auto", "fingerprints": [{algorithm, value}]}: the DTLS
    role this SDP's author takes (a=setup: active -> client, passive -> server, actpass ->
    auto), as weir's connect wants it (the role of the peer, not weir's)."""
    parsed = parse_sdp(sdp_text)
    media = media_section(sdp_text, kind)
    setup = _attr(media["attrs"], "setup") or _attr(parsed["session"], "setup")
    fingerprints = _attrs(media["attrs"], "fingerprint") or _attrs(parsed["session"], "fingerprint")
    if not setup or not fingerprints:
        raise ValueError("SDP lacks a=setup or a=fingerprint")
    role = {"active": "client", "passive": "server", "actpass": "auto"}[setup]
    out = []
    for fp in fingerprints:
        algorithm, value = fp.split()
        out.append({"algorithm": algorithm.lower(), "value": value.upper()})
    return {"role": role, "fingerprints": out}


def producer_rtp_parameters(offer_sdp, kind="video"):
    """The producer's rtpParameters, read from aiortc's offer the way mediasoup-client reads
    a browser's: aiortc's own PTs, extension ids, SSRCs (a=ssrc-group:FID gives the RTX
    SSRC) and CNAME; codecs in m-line order, RTX right after its media codec."""
    media = media_section(offer_sdp, kind)
    attrs = media["attrs"]
    rtpmap = {}
    for value in _attrs(attrs, "rtpmap"):
        pt, desc = value.split(" ", 1)
        rtpmap[int(pt)] = desc.split("/")
    fmtp = {}
    for value in _attrs(attrs, "fmtp"):
        pt, desc = value.split(" ", 1)
        params = {}
        for item in desc.split(";"):
            key, _, val = item.strip().partition("=")
            if key:
                params[key] = _number_or_string(val)
        fmtp[int(pt)] = params
    feedback = {}
    for value in _attrs(attrs, "rtcp-fb"):
        pt, fb = value.split(" ", 1)
        fb_type, _, parameter = fb.partition(" ")
        feedback.setdefault(pt, []).append({"type": fb_type, "parameter": parameter})

    codecs = []
    for pt_text in media["fmts"]:
        pt = int(pt_text)
        if pt not in rtpmap:
            continue
        desc = rtpmap[pt]
        codec = {"mimeType": f"{kind}/{desc[0]}", "payloadType": pt, "clockRate": int(desc[1]),
                 "parameters": fmtp.get(pt, {}),
                 "rtcpFeedback": feedback.get(pt_text, []) + feedback.get("*", [])}
        if kind == "audio":
            codec["channels"] = int(desc[2]) if len(desc) > 2 else 1
        codecs.append(codec)

    extensions = []
    for value in _attrs(attrs, "extmap"):
        ext_id, uri = value.split()[:2]
        extensions.append({"uri": uri, "id": int(ext_id.split("/")[0])})

    ssrcs, cname = [], None
    for value in _attrs(attrs, "ssrc"):
        ssrc_text, _, desc = value.partition(" ")
        ssrc = int(ssrc_text)
        if ssrc not in ssrcs:
            ssrcs.append(ssrc)
        if desc.startswith("cname:") and cname is None:
            cname = desc[len("cname:"):]
    encoding = {}
    for value in _attrs(attrs, "ssrc-group"):
        semantics, *group = value.split()
        if semantics == "FID" and len(group) == 2:
            encoding = {"ssrc": int(group[0]), "rtx": {"ssrc": int(group[1])}}
    if not encoding and ssrcs:
        encoding = {"ssrc": ssrcs[0]}

    params = {"mid": _attr(attrs, "mid"), "codecs": codecs, "headerExtensions": extensions,
              "encodings": [encoding] if encoding else [],
              "rtcp": {"cname": cname, "reducedSize": _attrs(attrs, "rtcp-rsize") != []}}
    if params["mid"] is None:
        del params["mid"]
    return params


# ---------------------------------------------------------------------------------------
# SDP building (weir's side, from its JSON)

def _sha256_fingerprint(transport):
    """The sha-256 fingerprint. mediasoup-client uses the LAST one, which weir makes sha-256
    (the tests check that); aiortc checks only a sha-256 fingerprint (rtcdtlstransport.py:
    a peer certificate is accepted only if it matches an "sha-256" entry), so an SDP for
    aiortc must carry that one even where, as in mediasoup's own answers (the recorded
    sessions list sha-512 last), the last entry is another algorithm."""
    fingerprints = transport["dtlsParameters"]["fingerprints"]
    for fp in reversed(fingerprints):
        if fp["algorithm"].lower() == "sha-256":
            return "sha-256", fp["value"]
    raise ValueError(f"no sha-256 fingerprint among {fingerprints}")


def _candidate_lines(transport):
    lines = []
    for c in transport["iceCandidates"]:
        address = c.get("address") or c.get("ip")
        line = (f"a=candidate:{c['foundation']} 1 {c['protocol']} {c['priority']} "
                f"{address} {c['port']} typ {c['type']}")
        if c.get("tcpType"):
            line += f" tcptype {c['tcpType']}"
        lines.append(line)
    lines.append("a=end-of-candidates")
    return lines


def _transport_lines(transport, setup):
    ice = transport["iceParameters"]
    algorithm, value = _sha256_fingerprint(transport)
    return [f"a=ice-ufrag:{ice['usernameFragment']}", f"a=ice-pwd:{ice['password']}",
            f"a=fingerprint:{algorithm} {value}", f"a=setup:{setup}"]


def _session_lines(mid, ice_lite):
    session_id = random.randrange(1, 2**62)
    lines = ["v=0", f"o=weir-test {session_id} 1 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    if ice_lite:
        lines.append("a=ice-lite")  # session level: aiortc reads ice-lite only there
    lines += [f"a=group:BUNDLE {mid}", "a=msid-semantic:WMS *"]
    return lines


def _codec_lines(codecs):
    lines = []
    for codec in codecs:
        pt = codec["payloadType"]
        name = codec["mimeType"].split("/", 1)[1]
        rtpmap = f"a=rtpmap:{pt} {name}/{codec['clockRate']}"
        if codec["mimeType"].lower().startswith("audio/") and codec.get("channels", 1) > 1:
            rtpmap += f"/{codec['channels']}"
        lines.append(rtpmap)
        for fb in codec.get("rtcpFeedback", []):
            parameter = fb.get("parameter") or ""
            lines.append(f"a=rtcp-fb:{pt} {fb['type']}" + (f" {parameter}" if parameter else ""))
        params = codec.get("parameters") or {}
        if params:
            lines.append(f"a=fmtp:{pt} " + ";".join(f"{k}={v}" for k, v in params.items()))
    return lines


def _router_codec_for(router_caps, codec):
    for rc in (router_caps or {}).get("codecs", []):
        if (rc["mimeType"].lower() == codec["mimeType"].lower()
                and rc["clockRate"] == codec["clockRate"]):
            return rc
    return None


def build_answer(offer_sdp, transport, setup="active", router_caps=None, kind="video"):
    """weir's SDP answer to aiortc's offer, as mediasoup-client's RemoteSdp writes it for a
    send transport: ICE-lite, weir's ufrag/pwd, its sha-256 fingerprint and candidates,
    a=setup (active: weir is the DTLS client; passive: weir is the DTLS server), the
    offer's MID, recvonly, rtcp-mux, and the offered codecs/PTs and extension ids that the
    router accepts (by mimeType, and by URI in router_caps' extensions for this kind; all
    of them when router_caps is None), rtcp-fb reduced to what the router also has."""
    if setup not in ("active", "passive"):
        raise ValueError("an answer's a=setup is active or passive")
    offered = producer_rtp_parameters(offer_sdp, kind)
    mid = offered.get("mid", "0")
    media_codecs = {}
    codecs = []
    for codec in offered["codecs"]:
        if codec["mimeType"].lower().endswith("/rtx"):
            if codec["parameters"].get("apt") not in media_codecs:
                continue
            codecs.append(codec)
            continue
        router_codec = _router_codec_for(router_caps, codec) if router_caps else codec
        if router_codec is None:
            continue
        accepted = dict(codec)
        if router_caps:
            router_fb = {(f["type"], f.get("parameter") or "") for f in router_codec.get("rtcpFeedback", [])}
            accepted["rtcpFeedback"] = [f for f in codec["rtcpFeedback"]
                                        if (f["type"], f.get("parameter") or "") in router_fb]
        media_codecs[codec["payloadType"]] = accepted
        codecs.append(accepted)
    if not media_codecs:
        raise ValueError("the router accepts none of the offered codecs")
    extensions = offered["headerExtensions"]
    if router_caps:
        known = {e["uri"] for e in router_caps.get("headerExtensions", []) if e.get("kind") == kind}
        extensions = [e for e in extensions if e["uri"] in known]

    lines = _session_lines(mid, ice_lite=transport["iceParameters"].get("iceLite", False))
    lines += [f"m={kind} 7 UDP/TLS/RTP/SAVPF " + " ".join(str(c["payloadType"]) for c in codecs),
              "c=IN IP4 127.0.0.1"]
    lines += _transport_lines(transport, setup)
    lines += [f"a=mid:{mid}", "a=recvonly", "a=rtcp-mux", "a=rtcp-rsize"]
    lines += [f"a=extmap:{e['id']} {e['uri']}" for e in extensions]
    lines += _codec_lines(codecs)
    lines += _candidate_lines(transport)
    return "\r\n".join(lines) + "\r\n"


def build_consumer_offer(consumer, transport, kind=None):
    """weir's SDP offer for a consumer, as mediasoup-client's RemoteSdp writes it for a
    receive transport: ICE-lite, a=setup:actpass, sendonly, the consumer's MID ("0" when
    the answer has none), codecs with rtcp-fb and fmtp (apt), header extensions, and
    a=ssrc lines with the CNAME (media SSRC first, then RTX, plus a=ssrc-group:FID)."""
    rtp = consumer["rtpParameters"]
    kind = kind or consumer.get("kind", "video")
    mid = str(rtp.get("mid") or "0")
    encoding = rtp["encodings"][0]
    cname = (rtp.get("rtcp") or {}).get("cname") or "weir"
    stream_id, track_id = f"weir-{consumer['producerId']}", f"weir-{consumer['id']}"

    lines = _session_lines(mid, ice_lite=transport["iceParameters"].get("iceLite", False))
    lines += [f"m={kind} 7 UDP/TLS/RTP/SAVPF " + " ".join(str(c["payloadType"]) for c in rtp["codecs"]),
              "c=IN IP4 127.0.0.1"]
    lines += _transport_lines(transport, "actpass")
    lines += [f"a=mid:{mid}", "a=sendonly", "a=rtcp-mux", "a=rtcp-rsize",
              f"a=msid:{stream_id} {track_id}"]
    lines += [f"a=extmap:{e['id']} {e['uri']}" for e in rtp.get("headerExtensions", [])]
    lines += _codec_lines(rtp["codecs"])
    ssrcs = [encoding["ssrc"]]
    if encoding.get("rtx", {}).get("ssrc") is not None:
        ssrcs.append(encoding["rtx"]["ssrc"])
        lines.append(f"a=ssrc-group:FID {ssrcs[0]} {ssrcs[1]}")
    for ssrc in ssrcs:  # aiortc takes the first a=ssrc as media, the second as RTX
        lines += [f"a=ssrc:{ssrc} cname:{cname}", f"a=ssrc:{ssrc} msid:{stream_id} {track_id}"]
    lines += _candidate_lines(transport)
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------------------------------
# The consumer broadcaster's rtpCapabilities

def consumer_rtp_capabilities(router_caps, mime_type="video/VP8"):
    """What an aiortc receiver can take, in router terms, as mediasoup-client computes its
    receive capabilities: the router's codec of mime_type and its RTX (the router's
    preferredPayloadType), rtcpFeedback reduced to what aiortc has, and the router's
    extensions of that kind whose URI aiortc supports (the router's preferredId)."""
    kind = mime_type.split("/")[0]
    local = next(c for c in AIORTC_CODECS[kind] if c.mimeType.lower() == mime_type.lower())
    local_fb = {(f.type, f.parameter or "") for f in local.rtcpFeedback}
    codecs = []
    for rc in router_caps["codecs"]:
        if rc["mimeType"].lower() == mime_type.lower() and rc["clockRate"] == local.clockRate:
            codecs.append({
                "kind": kind, "mimeType": rc["mimeType"],
                "preferredPayloadType": rc["preferredPayloadType"],
                "clockRate": rc["clockRate"], "parameters": dict(local.parameters),
                "rtcpFeedback": [f for f in rc.get("rtcpFeedback", [])
                                 if (f["type"], f.get("parameter") or "") in local_fb]})
            break
    if not codecs:
        raise ValueError(f"the router has no {mime_type}")
    media_pt = codecs[0]["preferredPayloadType"]
    for rc in router_caps["codecs"]:
        if (rc["mimeType"].lower() == f"{kind}/rtx"
                and int(rc.get("parameters", {}).get("apt", -1)) == media_pt):
            codecs.append({"kind": kind, "mimeType": rc["mimeType"],
                           "preferredPayloadType": rc["preferredPayloadType"],
                           "clockRate": rc["clockRate"], "parameters": {"apt": media_pt},
                           "rtcpFeedback": []})
    supported = {e.uri for e in AIORTC_HEADER_EXTENSIONS[kind]}
    extensions = [{"kind": kind, "uri": e["uri"], "preferredId": e["preferredId"],
                   "preferredEncrypt": False, "direction": "sendrecv"}
                  for e in router_caps.get("headerExtensions", [])
                  if e.get("kind") == kind and e["uri"] in supported
                  and e.get("direction", "sendrecv") in ("sendrecv", "sendonly")]
    return {"codecs": codecs, "headerExtensions": extensions}


# ---------------------------------------------------------------------------------------
# The peers

async def wait_for(predicate, timeout_s, what, interval_s=0.05):
    """Polls predicate() (a plain function) inside the event loop; TimeoutError names what."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(interval_s)


def _ice_connection(pc):
    """aioice's Connection behind pc's single (bundled) ICE transport, for diagnostics."""
    for transceiver in pc.getTransceivers():
        return transceiver.receiver.transport.transport._connection
    return None


def selected_pair(pc):
    """((local ip, port), (remote ip, port)) of the nominated pair, or None."""
    connection = _ice_connection(pc)
    pair = connection._nominated.get(1) if connection is not None else None
    if pair is None:
        return None
    return tuple(pair.local_addr), tuple(pair.remote_addr)


def local_candidate_hosts(pc):
    connection = _ice_connection(pc)
    return [c.host for c in connection.local_candidates] if connection is not None else []


async def _close(pc):
    # setRemoteDescription/setLocalDescription start the connection in a task of their
    # own; a close before that task has run makes it fail with "RTCIceTransport is closed"
    # ("Task exception was never retrieved"). Let it start first.
    await asyncio.sleep(0.05)
    await pc.close()


class Publisher:
    """aiortc sending VP8 (+RTX) from a PatternVideoTrack on one sendonly transceiver."""

    def __init__(self, width=320, height=240):
        self.pc = RTCPeerConnection(rtc_configuration())
        self.track = PatternVideoTrack(width, height)
        self.transceiver = self.pc.addTransceiver(self.track, direction="sendonly")
        caps = RTCRtpSender.getCapabilities("video")
        self.transceiver.setCodecPreferences(
            [c for c in caps.codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")])

    async def create_offer(self):
        """createOffer + setLocalDescription; the offer (with candidates) as SDP text."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept_answer(self, answer_sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    @property
    def state(self):
        return {"connection": self.pc.connectionState, "ice": self.pc.iceConnectionState,
                "dtls": self.transceiver.sender.transport.state,
                "framesSent": self.track.frames_sent}

    async def close(self):
        await _close(self.pc)


class Subscriber:
    """aiortc receiving one video stream, answering a remote offer."""

    def __init__(self):
        self.pc = RTCPeerConnection(rtc_configuration())
        self.answer_sdp = None
        self.transceiver = None
        self.frames = 0
        self.wrong_size = []

    async def answer(self, offer_sdp):
        """setRemoteDescription(offer) + createAnswer; the answer's SDP, not yet applied:
        weir's connect (which needs aiortc's role and fingerprint) goes before
        setLocalDescription, as in mediasoup-client, so weir knows its DTLS role before
        aiortc's first ICE check and ClientHello arrive."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        self.transceiver = self.pc.getTransceivers()[0]
        answer = await self.pc.createAnswer()
        self.answer_sdp = answer.sdp
        return self.answer_sdp

    async def start(self):
        await self.pc.setLocalDescription(
            RTCSessionDescription(sdp=self.answer_sdp, type="answer"))

    @property
    def track(self):
        return self.transceiver.receiver.track

    async def receive_frames(self, want, timeout_s, width, height):
        """Decoded frames until `want` of them are width x height or timeout_s passed in
        all; returns the number that were."""
        deadline = time.monotonic() + timeout_s
        while self.frames < want:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                frame = await asyncio.wait_for(self.track.recv(), remaining)
            except (asyncio.TimeoutError, MediaStreamError):
                break
            if (frame.width, frame.height) == (width, height):
                self.frames += 1
            elif len(self.wrong_size) < 10:
                self.wrong_size.append((frame.width, frame.height))
        return self.frames

    @property
    def state(self):
        return {"connection": self.pc.connectionState, "ice": self.pc.iceConnectionState,
                "dtls": self.transceiver.receiver.transport.state if self.transceiver else None,
                "framesDecoded": self.frames, "wrongSize": self.wrong_size}

    async def close(self):
        await _close(self.pc)
