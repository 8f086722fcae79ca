"""An independent WebRTC peer through weir: aiortc (Debian's python3-aiortc, which shares no
code with weir: aioice, pyOpenSSL, pylibsrtp, libvpx) publishes VP8 through the
broadcaster API over ICE + DTLS-SRTP, and a second aiortc peer consumes it and decodes it.

- Publisher: aiortc offers (sendonly VP8 + RTX, 320x240 synthetic pattern); the answer is
  built from weir's WebRTC transport with a=setup:active, so weir is the DTLS client and
  connect says role "server" (aiortc's role). The producer's rtpParameters come from
  aiortc's offer (its PTs, extension ids, SSRC + RTX SSRC, CNAME, MID).
- Consumer: created after the publisher's media flows, i.e. after aiortc's only key frame
  (its VP8 encoder makes one at start and then only on PLI), so weir must ask the producer
  for one. Its offer is built from the consumer's rtpParameters and the transport's
  ICE/DTLS parameters (ICE-lite, actpass); aiortc answers a=setup:active, so weir is the
  DTLS server there and connect says role "client". Both of weir's DTLS roles are used.
- Pass: >= 60 frames of 320x240 decoded within 30 s, starting on a key frame; RTCP from
  both peers counted by weir (rtcpPacketsReceived > 0 on both transports); both transports
  end with dtlsState "connected" and iceState "connected" or "completed".

aioice never gathers loopback candidates (see aiortc_peer.use_loopback_only); the patch
makes 127.0.0.1 its only host address, there are no STUN servers, and weir listens on
127.0.0.1: every packet stays on loopback.
"""

import aiortc_peer as ap  # first: re-runs this script under Debian's python3 if need be

import asyncio
import json
import random
import re

import weirtest as wt

WIDTH, HEIGHT = 320, 240
MIN_FRAMES = 60
RECEIVE_S = 30
FINGERPRINT_RE = re.compile(r"^([0-9A-F]{2}:)+[0-9A-F]{2}$")


def check_webrtc_transport(t, who):
    """The createWebRtcTransport answer, as signaling contract 5.3 wants it, on loopback."""
    ice, dtls = t.get("iceParameters", {}), t.get("dtlsParameters", {})
    wt.check(isinstance(t.get("id"), str) and t["id"], f"{who} transport has no id: {t}")
    wt.check(ice.get("usernameFragment") and ice.get("password") and ice.get("iceLite") is True,
             f"{who} transport: iceParameters need usernameFragment, password, iceLite:true: {ice}")
    candidates = t.get("iceCandidates") or []
    wt.check(any(c.get("protocol") == "udp" for c in candidates),
             f"{who} transport has no UDP candidate: {candidates}")
    for c in candidates:
        wt.check(c.get("address") == "127.0.0.1" and c.get("ip") == "127.0.0.1"
                 and isinstance(c.get("port"), int) and isinstance(c.get("priority"), int)
                 and c.get("foundation") and c.get("type") == "host",
                 f"{who} transport: a candidate that is not a 127.0.0.1 host candidate "
                 f"with address, ip, port, priority, foundation: {c}")
    fingerprints = dtls.get("fingerprints") or []
    wt.check(fingerprints and fingerprints[-1].get("algorithm") == "sha-256"
             and FINGERPRINT_RE.match(fingerprints[-1].get("value", "")),
             f"{who} transport: the last fingerprint must be sha-256, uppercase hex with colons "
             f"(mediasoup-client uses the last one only): {fingerprints}")
    wt.check(dtls.get("role", "auto") == "auto", f"{who} transport: dtlsParameters.role {dtls.get('role')}")


async def scenario(weir):
    room = f"room-{random.getrandbits(32):08x}"
    pub_bid, sub_bid = f"aiortc-pub-{room}", f"aiortc-sub-{room}"
    base = f"/rooms/{room}/broadcasters"
    observer = ap.vp8_decode_observer
    observer.reset()

    async def api(method, path, body=None):
        return await asyncio.to_thread(weir.api, method, path, body)

    async def poll(fetch, ok, timeout_s, what, interval_s=0.1):
        """Calls the coroutine fetch() until ok(value); TestFailure after timeout_s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            value = await fetch()
            if ok(value):
                return value
            if loop.time() > deadline:
                raise wt.TestFailure(f"timed out after {timeout_s}s waiting for {what}: {value}")
            await asyncio.sleep(interval_s)

    ids = {}

    async def stats(kind, key):
        if key not in ids:
            return None
        return (await api("GET", f"/rooms/{room}/{kind}/{ids[key]}/stats"))

    async def diagnostics():
        for kind, key in (("producers", "producer"), ("consumers", "consumer"),
                          ("transports", "pub_transport"), ("transports", "sub_transport")):
            if key not in ids:
                continue
            try:
                wt.log(f"{key} stats: {json.dumps(await stats(kind, key))}")
            except Exception as e:  # diagnostics must not hide the failure
                wt.log(f"{key} stats: unavailable ({e})")
        wt.log(f"aiortc publisher: {publisher.state}, selected pair {ap.selected_pair(publisher.pc)}")
        if subscriber is not None:
            wt.log(f"aiortc subscriber: {subscriber.state}, selected pair {ap.selected_pair(subscriber.pc)}")
        wt.log(f"aiortc VP8 decoder input: {observer.summary()}")
        weir.dump_log()

    caps = await api("GET", f"/rooms/{room}")
    recv_caps = ap.consumer_rtp_capabilities(caps)
    await api("POST", base, {"id": pub_bid, "displayName": pub_bid, "device": {"name": "aiortc"}})
    await api("POST", base, {"id": sub_bid, "displayName": sub_bid, "device": {"name": "aiortc"},
                             "rtpCapabilities": recv_caps})

    publisher, subscriber = ap.Publisher(WIDTH, HEIGHT), None
    try:
        # -- publisher: aiortc offers, weir's transport answers --------------------------
        pub_t = await api("POST", f"{base}/{pub_bid}/transports", {"type": "webrtc"})
        check_webrtc_transport(pub_t, "publisher")
        ids["pub_transport"] = pub_t["id"]
        pub_path = f"{base}/{pub_bid}/transports/{pub_t['id']}"

        offer = await publisher.create_offer()
        # The answer says a=setup:active: weir is the DTLS client, aiortc the server.
        await api("POST", f"{pub_path}/connect", {"dtlsParameters": {
            "role": "server", "fingerprints": ap.dtls_parameters_from_sdp(offer)["fingerprints"]}})
        rtp_parameters = ap.producer_rtp_parameters(offer)
        wt.log(f"producer rtpParameters (from aiortc's offer): {json.dumps(rtp_parameters)}")
        producer = await api("POST", f"{pub_path}/producers",
                             {"kind": "video", "rtpParameters": rtp_parameters})
        wt.check(isinstance(producer, dict) and producer.get("id"), f"produce answer: {producer}")
        ids["producer"] = producer["id"]
        await publisher.accept_answer(ap.build_answer(offer, pub_t, setup="active", router_caps=caps))

        await poll(lambda: stats("producers", "producer"),
                   lambda s: s[0]["packetCount"] > 0 and s[0]["keyFrames"] > 0, 15,
                   "weir to receive the publisher's first key frame over ICE + DTLS-SRTP")
        wt.log(f"publisher connected: {publisher.state}")
        await asyncio.sleep(0.5)  # the consumer joins mid-stream, well after that key frame

        # -- consumer: weir's side offers, aiortc answers --------------------------------
        sub_t = await api("POST", f"{base}/{sub_bid}/transports", {"type": "webrtc"})
        check_webrtc_transport(sub_t, "consumer")
        ids["sub_transport"] = sub_t["id"]
        sub_path = f"{base}/{sub_bid}/transports/{sub_t['id']}"
        consumer = await api("POST", f"{sub_path}/consume?producerId={producer['id']}", {})
        wt.log(f"consumer: {json.dumps(consumer)}")
        ids["consumer"] = consumer["id"]
        rtp = consumer.get("rtpParameters", {})
        wt.check(consumer.get("kind") == "video" and consumer.get("producerId") == producer["id"]
                 and consumer.get("type") == "simple"
                 and rtp.get("codecs") and rtp["codecs"][0]["mimeType"].lower() == "video/vp8"
                 and rtp["codecs"][0]["payloadType"] == recv_caps["codecs"][0]["preferredPayloadType"]
                 and rtp.get("encodings") and isinstance(rtp["encodings"][0].get("ssrc"), int)
                 and (rtp.get("rtcp") or {}).get("cname"),
                 "consume answer: want kind video, type simple, codecs[0] VP8 with the router's PT, "
                 f"encodings[0].ssrc and rtcp.cname: {consumer}")

        subscriber = ap.Subscriber()
        answer = await subscriber.answer(ap.build_consumer_offer(consumer, sub_t))
        dtls = ap.dtls_parameters_from_sdp(answer)
        # aiortc answers an actpass offer with a=setup:active: weir is the DTLS server here,
        # the other role from the publisher's transport.
        wt.check(dtls["role"] == "client", f"aiortc's answer takes DTLS role {dtls['role']}, not client")
        await api("POST", f"{sub_path}/connect", {"dtlsParameters": dtls})
        await subscriber.start()

        frames = await subscriber.receive_frames(MIN_FRAMES, RECEIVE_S, WIDTH, HEIGHT)
        if frames < MIN_FRAMES:
            pstats = await stats("producers", "producer")
            cstats = await stats("consumers", "consumer")
            hint = ""
            if (pstats and pstats[0]["keyFrames"] <= 1 and cstats
                    and wt.dropped(cstats[0], "waitingKeyframe") > 0):
                hint = (" (weir got no key frame after the consumer joined and dropped packets "
                        "waiting for one: it must send a PLI to the producer; aiortc ignores FIR)")
            raise wt.TestFailure(f"the consumer decoded {frames} {WIDTH}x{HEIGHT} frames in "
                                 f"{RECEIVE_S}s (want >= {MIN_FRAMES}){hint}")
        wt.check(not subscriber.wrong_size, f"frames of another size: {subscriber.wrong_size}")
        wt.check(observer.first_is_key is True,
                 f"the consumer's first VP8 frame was not a key frame: {observer.summary()}")
        wt.log(f"decoded {frames} frames through weir; decoder input {observer.summary()}")

        # -- RTCP from both peers, and the transports' final state -----------------------
        both = await poll(
            lambda: asyncio.gather(stats("transports", "pub_transport"), stats("transports", "sub_transport")),
            lambda s: s[0][0]["rtcpPacketsReceived"] > 0 and s[1][0]["rtcpPacketsReceived"] > 0, 5,
            "RTCP from both aiortc peers (sender reports; receiver reports/REMB) at weir")
        for who, t_stats in zip(("publisher", "consumer"), both):
            t = t_stats[0]
            wt.check(t.get("dtlsState") == "connected", f"{who} transport dtlsState: {t}")
            wt.check(t.get("iceState") in ("connected", "completed"), f"{who} transport iceState: {t}")
        wt.check(both[0][0]["rtpPacketsReceived"] > 0 and both[1][0]["rtpPacketsSent"] > 0,
                 f"RTP counters: publisher transport {both[0][0]}, consumer transport {both[1][0]}")
        for who, peer, t in (("publisher", publisher, pub_t), ("consumer", subscriber, sub_t)):
            wt.check(peer.pc.connectionState == "connected", f"aiortc {who}: {peer.state}")
            pair = ap.selected_pair(peer.pc)
            ports = {c["port"] for c in t["iceCandidates"] if c["protocol"] == "udp"}
            wt.check(pair is not None and pair[0][0] == "127.0.0.1" and pair[1][0] == "127.0.0.1"
                     and pair[1][1] in ports,
                     f"aiortc {who}'s ICE pair {pair} is not 127.0.0.1 to weir's candidate {ports}")
        # -- Bandwidth feedback both ways -------------------------------------------------
        # aiortc's sender negotiated goog-remb without transport-cc: weir must tell it what
        # to send by REMB, and its VP8 encoder takes that as its target (clamped by aiortc
        # to 250 kbit/s .. 1.5 Mbit/s). aiortc's receiver sends REMB to weir.
        encoder = publisher.transceiver.sender._RTCRtpSender__encoder  # aiortc's own encoder

        def clamp(bps):
            return max(250_000, min(bps, 1_500_000))

        remb = await poll(
            lambda: stats("transports", "pub_transport"),
            lambda t: t[0].get("advertisedIncomingBitrate", 0) > 0
            and encoder is not None and encoder.target_bitrate == clamp(t[0]["advertisedIncomingBitrate"]),
            8, "aiortc's encoder following weir's REMB")
        wt.log(f"weir advertised {remb[0]['advertisedIncomingBitrate']} bit/s by REMB; aiortc's "
               f"encoder targets {encoder.target_bitrate} bit/s")
        await poll(lambda: stats("transports", "sub_transport"),
                   lambda t: t[0].get("rembBitrate", 0) > 0, 5, "aiortc's REMB at weir")

        cstats = await stats("consumers", "consumer")
        wt.check(cstats[0]["packetCount"] > 0, f"consumer stats: {cstats}")
        wt.log(f"producer stats: {json.dumps(await stats('producers', 'producer'))}")
        wt.log(f"consumer stats: {json.dumps(cstats)}")
        wt.log(f"publisher transport stats: {json.dumps(both[0])}")
        wt.log(f"consumer transport stats: {json.dumps(both[1])}")
    except BaseException:
        await diagnostics()
        raise
    finally:
        await publisher.close()
        if subscriber is not None:
            await subscriber.close()


def run(weir_exe, _pktgen):
    ap.use_loopback_only()
    ap.vp8_decode_observer.install()
    with wt.Weir(weir_exe) as weir:
        try:
            asyncio.run(asyncio.wait_for(scenario(weir), 90))
        except asyncio.TimeoutError:
            raise wt.TestFailure("the scenario did not finish within 90 s") from None


if __name__ == "__main__":
    wt.main(run)
