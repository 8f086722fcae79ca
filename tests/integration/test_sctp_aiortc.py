"""DataChannels' transport against an independent SCTP stack: aiortc (Debian's
python3-aiortc: its own SCTP in Python, aioice, pyOpenSSL; no usrsctp) opens a
DataChannel to a weir WebRTC transport created through the broadcaster API.

- aiortc offers an m=application section only (UDP/DTLS/SCTP webrtc-datachannel); the
  answer is built from weir's transport, with weir's sctpParameters (port 5000,
  maxMessageSize) as a=sctp-port and a=max-message-size.
- Both DTLS roles: one peer connection where weir is the DTLS server (aiortc, the client,
  sends INIT and weir does too: an INIT collision), one where weir is the client.
- aiortc's channel is not negotiated: it sends DCEP DATA_CHANNEL_OPEN and opens only on
  weir's DATA_CHANNEL_ACK. Then text and binary messages up to 64 KiB and an empty string;
  weir's transport stats must count every one (messages and bytes) and the DCEP open.
- aiortc closing the channel resets its stream: weir counts the reset and answers it.

weir -> aiortc needs the room's data consumers; the unit tests cover that direction
(tests/unit/control/webrtc_transport_test.cc).
"""

import aiortc_peer as ap  # first: re-runs this script under Debian's python3 if need be

import asyncio
import random

from aiortc import RTCPeerConnection, RTCSessionDescription

import weirtest as wt

TEXTS = [f"message {i}" for i in range(20)]
BINARIES = [bytes([i]) * (1 << (i % 17)) for i in range(20)]  # 1 B .. 64 KiB


def build_datachannel_answer(offer_sdp, transport, setup):
    """weir's answer for a data-channel-only offer, as mediasoup-client writes one."""
    mid = ap.media_section(offer_sdp, "application")
    mid_value = "0"
    for attr, value in mid["attrs"]:
        if attr == "mid":
            mid_value = value
    sctp = transport["sctpParameters"]
    lines = ap._session_lines(mid_value, ice_lite=True)
    lines += ["m=application 7 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 127.0.0.1"]
    lines += ap._transport_lines(transport, setup)
    lines += [f"a=mid:{mid_value}", f"a=sctp-port:{sctp['port']}",
              f"a=max-message-size:{sctp['maxMessageSize']}"]
    lines += ap._candidate_lines(transport)
    return "\r\n".join(lines) + "\r\n"


async def one_peer(weir, room, bid, weir_role):
    base = f"/rooms/{room}/broadcasters/{bid}"

    async def api(method, path, body=None):
        return await asyncio.to_thread(weir.api, method, path, body)

    t = await api("POST", f"{base}/transports", {"type": "webrtc"})
    sctp = t.get("sctpParameters")
    wt.check(sctp and sctp.get("port") == 5000 and sctp.get("maxMessageSize") == 262144
             and sctp.get("OS") == 1024 and sctp.get("MIS") == 1024,
             f"sctpParameters {sctp}")
    stats_path = f"/rooms/{room}/transports/{t['id']}/stats"

    pc = RTCPeerConnection(ap.rtc_configuration())
    channel = pc.createDataChannel("chat", protocol="weir-test")
    opened = asyncio.Event()
    channel.on("open", opened.set)
    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        # weir_role server: the answer says passive, aiortc is the client, and connect says so.
        setup = "passive" if weir_role == "server" else "active"
        aiortc_role = "client" if weir_role == "server" else "server"
        await api("POST", f"{base}/transports/{t['id']}/connect", {"dtlsParameters": {
            "role": aiortc_role,
            "fingerprints": ap.dtls_parameters_from_sdp(offer, "application")["fingerprints"]}})
        await pc.setRemoteDescription(RTCSessionDescription(
            sdp=build_datachannel_answer(offer, t, setup), type="answer"))
        try:
            await asyncio.wait_for(opened.wait(), 20)
        except asyncio.TimeoutError:
            raise wt.TestFailure(f"weir {weir_role}: the DataChannel never opened (no DCEP ACK?); "
                                 f"stats {await api('GET', stats_path)}") from None
        s = (await api("GET", stats_path))[0]
        wt.check(s["sctpState"] == "connected" and s["dtlsRole"] == weir_role,
                 f"weir {weir_role}: stats {s}")
        wt.check(s["sctpDataChannelsOpened"] == 1, f"weir {weir_role}: DCEP open not counted: {s}")

        for text, blob in zip(TEXTS, BINARIES):
            channel.send(text)
            channel.send(blob)
        channel.send("")
        count = len(TEXTS) + len(BINARIES) + 1
        size = sum(len(x.encode()) for x in TEXTS) + sum(len(b) for b in BINARIES)
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            s = (await api("GET", stats_path))[0]
            if s["sctpMessagesReceived"] >= count:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise wt.TestFailure(f"weir {weir_role}: {s['sctpMessagesReceived']} of {count} "
                                     f"messages arrived: {s}")
            await asyncio.sleep(0.1)
        wt.check(s["sctpMessagesReceived"] == count and s["sctpBytesReceived"] == size,
                 f"weir {weir_role}: expected {count} messages, {size} bytes: {s}")
        wt.check(s["sctpOversizeDropped"] == 0 and s["sctpDcepMalformed"] == 0, f"stats {s}")

        channel.close()
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            s = (await api("GET", stats_path))[0]
            if s["sctpStreamResetsReceived"] >= 1 and s["sctpStreamResetsSent"] >= 1:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise wt.TestFailure(f"weir {weir_role}: the channel's close (stream reset) was "
                                     f"not seen and answered: {s}")
            await asyncio.sleep(0.1)
        wt.log(f"weir as DTLS {weir_role}: {count} messages, {size} bytes; stats {s}")
    finally:
        await ap._close(pc)


async def scenario(weir):
    room = f"room-{random.getrandbits(32):08x}"
    bid = f"aiortc-dc-{room}"
    await asyncio.to_thread(weir.api, "POST", f"/rooms/{room}/broadcasters",
                            {"id": bid, "displayName": bid, "device": {"name": "aiortc"}})
    try:
        await one_peer(weir, room, bid, "server")
        await one_peer(weir, room, bid, "client")
    except Exception:
        weir.dump_log()
        raise


def run(weir_exe, _pktgen):
    ap.use_loopback_only()
    with wt.Weir(weir_exe) as weir:
        try:
            asyncio.run(asyncio.wait_for(scenario(weir), 90))
        except asyncio.TimeoutError:
            raise wt.TestFailure("the scenario did not finish within 90 s") from None


if __name__ == "__main__":
    wt.main(run)
