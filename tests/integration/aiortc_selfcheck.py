"""Self-check of aiortc_peer.py without weir; exit 0 when every check passes.

    python3 tests/integration/aiortc_selfcheck.py [path/to/real-sessions/vp8.jsonl]

(a) Two aiortc peers in one process (the helpers' Publisher and Subscriber) connect over
    127.0.0.1 only, with the loopback patch and no STUN server, and the subscriber decodes
    >= 60 VP8 frames of the publisher's size; a PLI sent by the subscriber makes the
    publisher send a key frame (what weir's consumers rely on to start decoding).
(b) The SDP builders, fed with mediasoup-shaped JSON from a recorded session (transport
    parameters and a newConsumer's rtpParameters, see shared/fixtures/real-sessions): aiortc
    accepts the answer weir's side would give a publisher and the offer it would give a
    subscriber, and reads from them what they are meant to say; the offer parser gives the
    producer rtpParameters the broadcaster API wants; the consumer rtpCapabilities are the
    router's VP8 + RTX and the extensions aiortc supports, with the router's numbers.
"""

import aiortc_peer as ap  # first: re-runs this script under Debian's python3 if need be

import asyncio
import json
import os
import sys
import time
import traceback

from aiortc import sdp as aiortc_sdp

WIDTH, HEIGHT = 320, 240
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURE = os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "real-sessions",
                               "vp8.jsonl")

passed = []


class CheckFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)
    passed.append(message)
    print(f"  ok: {message}", flush=True)


def candidate_hosts(sdp_text):
    return [line.split()[4] for line in sdp_text.splitlines() if line.startswith("a=candidate:")]


# ---------------------------------------------------------------------------------------
# (a) aiortc to aiortc on loopback

async def check_loopback():
    print("(a) two aiortc peers over 127.0.0.1", flush=True)
    observer = ap.vp8_decode_observer
    observer.reset()
    publisher, subscriber = ap.Publisher(WIDTH, HEIGHT), ap.Subscriber()
    try:
        offer = await publisher.create_offer()
        hosts = candidate_hosts(offer)
        check(hosts and all(h == "127.0.0.1" for h in hosts),
              f"the publisher offers only 127.0.0.1 candidates ({hosts})")
        await subscriber.answer(offer)
        await subscriber.start()
        hosts = candidate_hosts(subscriber.pc.localDescription.sdp)
        check(hosts and all(h == "127.0.0.1" for h in hosts),
              f"the subscriber answers only 127.0.0.1 candidates ({hosts})")
        await publisher.accept_answer(subscriber.pc.localDescription.sdp)

        started = time.monotonic()
        frames = await subscriber.receive_frames(60, 20, WIDTH, HEIGHT)
        check(frames >= 60, f"the subscriber decoded {frames} {WIDTH}x{HEIGHT} frames "
                            f"(want >= 60) in {time.monotonic() - started:.1f}s; "
                            f"wrong sizes: {subscriber.wrong_size}")
        for name, pc in (("publisher", publisher.pc), ("subscriber", subscriber.pc)):
            pair = ap.selected_pair(pc)
            check(pair is not None and pair[0][0] == "127.0.0.1" and pair[1][0] == "127.0.0.1",
                  f"the {name}'s selected ICE pair is on loopback ({pair})")
        check(observer.first_is_key is True, "the subscriber's decoder started on a key frame")

        # PLI: aiortc's RTCRtpSender answers it with a key frame (it ignores FIR).
        keys_before = observer.key_inputs
        media_ssrc = ap.producer_rtp_parameters(offer)["encodings"][0]["ssrc"]
        await subscriber.transceiver.receiver._send_rtcp_pli(media_ssrc)
        deadline = time.monotonic() + 10
        while observer.key_inputs <= keys_before and time.monotonic() < deadline:
            await subscriber.receive_frames(subscriber.frames + 1, deadline - time.monotonic(),
                                            WIDTH, HEIGHT)
        check(observer.key_inputs > keys_before,
              f"a PLI from the subscriber brings a new key frame ({observer.summary()})")
    finally:
        await publisher.close()
        await subscriber.close()


# ---------------------------------------------------------------------------------------
# (b) SDP builders against a recorded mediasoup session

def load_fixture(path):
    records = [json.loads(line) for line in open(path) if line.strip()]
    caps = next(r["data"] for r in records
                if r["method"] == "getRouterRtpCapabilities" and r["dir"] == "s2c-response")
    transports = {}  # (peer, "producing"|"consuming") -> createWebRtcTransport answer
    pending = {}
    for r in records:
        if r["method"] != "createWebRtcTransport":
            continue
        if r["dir"] == "c2s-request":
            pending.setdefault(r["peer"], []).append(
                "producing" if r["data"].get("producing") else "consuming")
        elif r["dir"] == "s2c-response":
            transports[(r["peer"], pending[r["peer"]].pop(0))] = r["data"]
    new_consumer = next(r for r in records if r["method"] == "newConsumer"
                        and r["dir"] == "s2c-request" and r["data"]["kind"] == "video")
    browser_produce = next(r["data"] for r in records if r["method"] == "produce"
                           and r["dir"] == "c2s-request" and r["data"]["kind"] == "video")
    return {"caps": caps, "producing": transports[(new_consumer["peer"], "producing")],
            "consuming": transports[(new_consumer["peer"], "consuming")],
            "newConsumer": new_consumer["data"], "browserProduce": browser_produce}


async def check_publisher_answer(fx, setup):
    transport = fx["producing"]
    publisher = ap.Publisher(WIDTH, HEIGHT)
    try:
        offer = await publisher.create_offer()
        answer = ap.build_answer(offer, transport, setup=setup, router_caps=fx["caps"])
        parsed = aiortc_sdp.SessionDescription.parse(answer)
        media = parsed.media[0]
        fingerprint = next(f for f in transport["dtlsParameters"]["fingerprints"]
                           if f["algorithm"] == "sha-256")
        check(media.ice.iceLite and media.ice.usernameFragment == transport["iceParameters"]["usernameFragment"]
              and media.ice.password == transport["iceParameters"]["password"],
              f"[{setup}] aiortc reads ICE-lite and weir's ufrag/pwd from the answer")
        check([(f.algorithm, f.value) for f in media.dtls.fingerprints]
              == [("sha-256", fingerprint["value"])],
              f"[{setup}] the answer carries the transport's sha-256 fingerprint only")
        udp = [(c.ip, c.port) for c in media.ice_candidates if c.protocol == "udp"]
        want = [(c["address"], c["port"]) for c in transport["iceCandidates"] if c["protocol"] == "udp"]
        check(udp == want and media.ice_candidates_complete,
              f"[{setup}] the answer's UDP candidates are the transport's ({udp}), then end-of-candidates")
        offered = ap.producer_rtp_parameters(offer)
        check(media.direction == "recvonly" and media.rtp.muxId == offered["mid"] and media.rtcp_mux,
              f"[{setup}] the answer is recvonly, rtcp-mux, MID {offered['mid']} as offered")
        check([c.payloadType for c in media.rtp.codecs] == [c["payloadType"] for c in offered["codecs"]]
              and [(e.id, e.uri) for e in media.rtp.headerExtensions]
              == [(e["id"], e["uri"]) for e in offered["headerExtensions"]],
              f"[{setup}] the answer keeps the offered PTs and extension ids")

        await publisher.accept_answer(answer)
        dtls = publisher.transceiver.sender.transport
        want_role = "server" if setup == "active" else "client"
        check(publisher.pc.signalingState == "stable" and dtls._role == want_role,
              f"[{setup}] aiortc accepts the answer and becomes the DTLS {want_role} "
              f"(connect role \"{want_role}\")")
        check(publisher.transceiver.currentDirection == "sendonly",
              f"[{setup}] the transceiver is negotiated sendonly")
        return offer, publisher
    except BaseException:
        await publisher.close()
        raise


async def check_builders(fixture_path):
    print(f"(b) SDP builders with {os.path.relpath(fixture_path)}", flush=True)
    fx = load_fixture(fixture_path)

    # The publisher's offer -> producer rtpParameters.
    offer, publisher = await check_publisher_answer(fx, "active")
    try:
        params = ap.producer_rtp_parameters(offer)
        json.dumps(params)
        sender = publisher.transceiver.sender
        parsed_offer = aiortc_sdp.SessionDescription.parse(offer).media[0]
        check(params["mid"] == publisher.transceiver.mid == "0", "producer mid is the transceiver's MID")
        vp8, rtx = params["codecs"][0], params["codecs"][1]
        check(len(params["codecs"]) == 2 and vp8["mimeType"] == "video/VP8"
              and isinstance(vp8["payloadType"], int) and vp8["clockRate"] == 90000
              and {"type": "nack", "parameter": "pli"} in vp8["rtcpFeedback"]
              and all(set(f) == {"type", "parameter"} for f in vp8["rtcpFeedback"]),
              f"producer codecs[0] is aiortc's VP8 with its rtcp-fb ({vp8})")
        check(rtx["mimeType"] == "video/rtx" and rtx["clockRate"] == 90000
              and rtx["parameters"] == {"apt": vp8["payloadType"]},
              f"producer codecs[1] is RTX with a numeric apt ({rtx})")
        check({e["uri"] for e in params["headerExtensions"]} ==
              {"urn:ietf:params:rtp-hdrext:sdes:mid", "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"}
              and all(isinstance(e["id"], int) and set(e) == {"uri", "id"} for e in params["headerExtensions"]),
              f"producer headerExtensions are aiortc's {{uri, id}} ({params['headerExtensions']})")
        check(params["encodings"] == [{"ssrc": sender._ssrc, "rtx": {"ssrc": sender._rtx_ssrc}}],
              f"producer encodings are the sender's SSRC and RTX SSRC ({params['encodings']})")
        check(params["rtcp"]["cname"] == parsed_offer.ssrc[0].cname and params["rtcp"]["cname"],
              "producer rtcp.cname is aiortc's CNAME")
        browser = fx["browserProduce"]["rtpParameters"]
        check(set(browser) - {"msid"} <= set(params),
              f"producer rtpParameters have every field a browser's produce has ({sorted(set(browser) - {'msid'})})")
        dtls = ap.dtls_parameters_from_sdp(offer)
        local_fp = sender.transport.getLocalParameters().fingerprints[0]
        check(dtls["role"] == "auto" and dtls["fingerprints"]
              == [{"algorithm": "sha-256", "value": local_fp.value.upper()}],
              "the offer gives aiortc's own sha-256 fingerprint (actpass: role auto)")
    finally:
        await publisher.close()

    _, publisher = await check_publisher_answer(fx, "passive")
    await publisher.close()

    # The consumer: router caps -> rtpCapabilities; newConsumer -> offer -> aiortc's answer.
    caps = ap.consumer_rtp_capabilities(fx["caps"])
    fb = [{"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
          {"type": "goog-remb", "parameter": ""}]
    check(caps["codecs"] == [
        {"kind": "video", "mimeType": "video/VP8", "preferredPayloadType": 101, "clockRate": 90000,
         "parameters": {}, "rtcpFeedback": fb},
        {"kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 102, "clockRate": 90000,
         "parameters": {"apt": 101}, "rtcpFeedback": []}],
        "consumer rtpCapabilities: the router's VP8 101 + RTX 102, rtcp-fb that aiortc has")
    check([(e["kind"], e["uri"], e["preferredId"]) for e in caps["headerExtensions"]] == [
        ("video", "urn:ietf:params:rtp-hdrext:sdes:mid", 1),
        ("video", "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 4)],
        "consumer rtpCapabilities: the router's mid (1) and abs-send-time (4) extensions")

    consumer, transport = fx["newConsumer"], fx["consuming"]
    rtp = consumer["rtpParameters"]
    offer = ap.build_consumer_offer(consumer, transport)
    media = aiortc_sdp.SessionDescription.parse(offer).media[0]
    check(media.ice.iceLite and media.dtls.role == "auto" and media.direction == "sendonly"
          and media.rtp.muxId == rtp["mid"] and media.rtcp_mux,
          f"the consumer offer is ICE-lite, actpass, sendonly, MID {rtp['mid']}")
    check([c.payloadType for c in media.rtp.codecs] == [101, 102]
          and media.rtp.codecs[1].parameters == {"apt": 101}
          and {(f.type, f.parameter) for f in media.rtp.codecs[0].rtcpFeedback}
          == {("transport-cc", None), ("ccm", "fir"), ("nack", None), ("nack", "pli")},
          "the consumer offer has VP8 101 with its rtcp-fb and RTX 102 (apt 101)")
    check([s.ssrc for s in media.ssrc] == [rtp["encodings"][0]["ssrc"], rtp["encodings"][0]["rtx"]["ssrc"]]
          and all(s.cname == rtp["rtcp"]["cname"] for s in media.ssrc)
          and [g.items for g in media.ssrc_group] == [[s.ssrc for s in media.ssrc]],
          "the consumer offer has the SSRCs (media, then RTX), the CNAME and an FID group")
    check([(e.id, e.uri) for e in media.rtp.headerExtensions]
          == [(e["id"], e["uri"]) for e in rtp["headerExtensions"]],
          "the consumer offer has the consumer's header extensions")

    subscriber = ap.Subscriber()
    try:
        answer = await subscriber.answer(offer)
        dtls = ap.dtls_parameters_from_sdp(answer)
        local_fp = subscriber.transceiver.receiver.transport.getLocalParameters().fingerprints[0]
        check(dtls["role"] == "client" and dtls["fingerprints"][0]["value"] == local_fp.value.upper(),
              "aiortc answers the consumer offer as DTLS client (connect role \"client\") with its fingerprint")
        answer_media = ap.media_section(answer)
        check(answer_media["fmts"][:2] == ["101", "102"] and ("recvonly", None) in answer_media["attrs"]
              and ("mid", rtp["mid"]) in answer_media["attrs"],
              "aiortc's answer takes VP8 101 + RTX 102, recvonly, on the consumer's MID")
        await subscriber.start()
        check(subscriber.pc.signalingState == "stable" and subscriber.track is not None
              and subscriber.track.kind == "video",
              "aiortc applies its answer and has a remote video track")
        ice = subscriber.transceiver.receiver.transport.transport
        check(ice.role == "controlling", "aiortc is the ICE controlling agent against an ICE-lite offer")
    finally:
        await subscriber.close()

    no_mid = json.loads(json.dumps(consumer))
    del no_mid["rtpParameters"]["mid"]
    media = aiortc_sdp.SessionDescription.parse(ap.build_consumer_offer(no_mid, transport)).media[0]
    check(media.rtp.muxId == "0", "a consumer answer without mid gives MID \"0\"")


async def main_async(fixture_path):
    ap.use_loopback_only()
    ap.vp8_decode_observer.install()
    await check_loopback()
    await check_builders(fixture_path)


def main():
    fixture_path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURE)
    started = time.monotonic()
    failed = 0
    try:
        if not os.path.exists(fixture_path):
            raise CheckFailed(f"fixture not found: {fixture_path}")
        asyncio.run(asyncio.wait_for(main_async(fixture_path), 120))
    except CheckFailed as e:
        print(f"FAIL: {e}", flush=True)
        failed = 1
    except Exception:
        traceback.print_exc()
        print("FAIL: unexpected exception", flush=True)
        failed = 1
    print(f"aiortc selfcheck ({time.monotonic() - started:.1f}s): "
          f"{len(passed)} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
