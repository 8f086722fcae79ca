"""Bad network input is counted and dropped, never crashes weir, and does not disturb a
healthy stream flowing through the same transport at the same time.

Phases, each checked against the transport's stats by exact deltas where the reason is
unambiguous: non-media first bytes (every RFC 7983 class), STUN/DTLS on a plain
transport, RTP truncated at every length inside its header, RTCP with lying length
fields, random bytes in the RTP/RTCP range, RTP with a wrong SRTP key on an SRTP
transport, and RTP from a stranger on a connected transport."""

import base64
import os
import random
import struct
import threading
import time

import weirtest as wt

HEALTHY_SSRC = 2222
GARBAGE_SSRC = 0x0BADBAD0


class HealthyStream:
    """Sends VP8 key-frame RTP at ~250 packets/s and receives what the consumer forwards."""

    def __init__(self, send_sock, dest, recv_sock):
        self.send_sock, self.dest, self.recv_sock = send_sock, dest, recv_sock
        self.sent = 0
        self.received = []
        self.stop_sending = threading.Event()
        self.stop_receiving = threading.Event()
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.receiver = threading.Thread(target=self._receive, daemon=True)

    def start(self):
        self.receiver.start()
        self.sender.start()

    def _send(self):
        seq, ts = 5000, 90000
        payload = wt.vp8_keyframe_payload(500)
        while not self.stop_sending.is_set() and self.sent < 60000:
            self.send_sock.sendto(wt.rtp_packet(seq, ts, HEALTHY_SSRC, 101, payload, marker=True),
                                  self.dest)
            self.sent += 1
            seq = (seq + 1) & 0xFFFF
            ts = (ts + 3000) & 0xFFFFFFFF
            time.sleep(0.004)

    def _receive(self):
        self.recv_sock.settimeout(0.1)
        while not self.stop_receiving.is_set():
            try:
                data, _ = self.recv_sock.recvfrom(65536)
            except OSError:
                continue
            parsed = wt.parse_rtp(data)
            self.received.append(parsed[2] if parsed else None)

    def stop(self):
        self.stop_sending.set()
        self.sender.join(5)
        time.sleep(0.5)  # let the last forwarded packets arrive
        self.stop_receiving.set()
        self.receiver.join(5)


def random_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def stun_binding_request(rng):
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + random_bytes(rng, 12)


def dtls_record(rng):
    body = random_bytes(rng, 40)
    return struct.pack("!BHHHIH", 22, 0xFEFD, 0, 0, rng.getrandbits(32), len(body)) + body


def lying_rtcp():
    """RTCP compounds in which some length field does not match the datagram."""
    rr = struct.pack("!BBHI", 0x80, 201, 1, 0x11111111)  # valid empty receiver report
    sdes_head = struct.pack("!BBH", 0x81, 202, 10)
    sr_short = struct.pack("!BBHI", 0x80, 200, 6, 0x22222222) + bytes(12)  # 20 of 28 bytes
    return [
        struct.pack("!BBHI", 0x80, 201, 5, 0x11111111),      # says 24 bytes, has 8
        struct.pack("!BBHI", 0x80, 201, 0, 0x11111111),      # says 4 bytes, has 8
        struct.pack("!BBHI", 0x80, 201, 0xFFFF, 0x11111111),  # says 256 KiB
        rr + sdes_head + b"abcd",                             # second packet runs past the end
        sr_short,
        rr + rr + b"\x80\xc9",                                # trailing half header
        rr + struct.pack("!BBHI", 0x80, 203, 3, 0x33333333),  # BYE says 16 bytes, has 8
    ]


def truncated_rtp_headers():
    """Every prefix of an RTP header with 2 CSRCs and a one-byte extension block that is
    too short for the header it announces, plus a padding count larger than the packet."""
    ext = bytes([0x10, 0xAA, 0x21, 0xBB, 0xCC, 0x00, 0x00, 0x00])  # id 1 len 1, id 2 len 2
    full = wt.rtp_packet(1, 2, GARBAGE_SSRC, 101, b"x" * 20, csrcs=(1, 2),
                         extension=(0xBEDE, ext))
    header_len = 12 + 8 + 4 + len(ext)
    inside_header = [full[:n] for n in range(12, header_len)]
    below_fixed = [full[:n] for n in range(1, 12)]
    bad_padding = bytearray(wt.rtp_packet(3, 4, GARBAGE_SSRC, 101, b"y" * 10))
    bad_padding[0] |= 0x20
    bad_padding[-1] = 200  # padding longer than the payload
    return inside_header + [bytes(bad_padding)], below_fixed


class TransportDrops:
    """Waits for a transport's drop counters to reach the expected deltas, then checks
    them exactly (re-read after a pause, so over-counting is caught too)."""

    def __init__(self, weir, room, tid):
        self.weir, self.room, self.tid = weir, room, tid
        self.base = self.read()

    def read(self):
        return self.weir.transport_stats(self.room, self.tid)

    def delta(self, stats, *reasons):
        return sum(wt.dropped(stats, r) - wt.dropped(self.base, r) for r in reasons)

    def expect(self, phase, expected):
        """expected: {(reason, ...): n} — the sum over the reasons must grow by exactly n."""
        def reached():
            s = self.read()
            return all(self.delta(s, *rs) >= n for rs, n in expected.items())
        try:
            wt.wait_until(reached, 10, what=f"{phase} drops to be counted")
        except wt.TestFailure:
            pass  # reported below with the actual numbers
        time.sleep(0.3)
        stats = self.read()
        for reasons, n in expected.items():
            got = self.delta(stats, *reasons)
            wt.check(got == n, f"{phase}: {'+'.join(reasons)} grew by {got}, want {n}; "
                               f"dropped now {stats.get('dropped')}")
        wt.log(f"{phase}: counted as expected {dict((('+'.join(k)), v) for k, v in expected.items())}")
        self.base = stats
        return stats


def run(weir_exe, _pktgen):
    rng = random.Random(7983)
    send_sock = wt.udp_socket()
    recv_sock = wt.udp_socket()
    stranger = wt.udp_socket()
    srtp_sock = wt.udp_socket()
    with wt.Weir(weir_exe) as weir:
        fwd = wt.Forwarding(weir, recv_sock.getsockname()[1])
        fwd.connect_and_consume()
        room = fwd.room
        rtp_dest = ("127.0.0.1", fwd.producer_transport["port"])
        rtcp_dest = ("127.0.0.1", fwd.producer_transport["rtcpPort"])

        healthy = HealthyStream(send_sock, rtp_dest, recv_sock)
        healthy.start()
        try:
            wt.wait_until(lambda: len(healthy.received) >= 20, 10,
                          what="the healthy stream to reach the consumer")
            drops = TransportDrops(weir, room, fwd.producer_transport["id"])

            # 1. Every first-byte class outside RTP/RTCP (RFC 7983). Garbage goes out of the
            # healthy stream's own socket: comedia learned that address, so the packets
            # get past the remote check and reach the classifier.
            not_media = [b for b in list(range(4, 20)) + list(range(64, 128)) + list(range(192, 256))]
            for first in not_media:
                send_sock.sendto(bytes([first]) + random_bytes(rng, rng.randrange(11, 200)), rtp_dest)
            drops.expect("non-media first bytes", {("notMedia",): len(not_media)})

            for _ in range(10):
                send_sock.sendto(stun_binding_request(rng), rtp_dest)
                send_sock.sendto(dtls_record(rng), rtp_dest)
            drops.expect("STUN and DTLS on a plain transport", {("controlUnhandled",): 20})

            # Random content behind STUN/DTLS first bytes: control traffic or not media.
            control_range = list(range(0, 4)) + list(range(20, 64))
            for first in control_range:
                send_sock.sendto(bytes([first]) + random_bytes(rng, rng.randrange(0, 100)), rtp_dest)
            drops.expect("random bytes in the STUN/DTLS ranges",
                         {("controlUnhandled", "notMedia"): len(control_range)})

            # 2. Truncated RTP.
            inside_header, below_fixed = truncated_rtp_headers()
            for pkt in inside_header:
                send_sock.sendto(pkt, rtp_dest)
            drops.expect("RTP truncated inside its header", {("malformedRtp",): len(inside_header)})
            for pkt in below_fixed:
                send_sock.sendto(pkt, rtp_dest)
            drops.expect("RTP shorter than 12 bytes",
                         {("malformedRtp", "notMedia", "malformedRtcp"): len(below_fixed)})

            # 3. RTCP with lying lengths, on the RTCP port and on the RTP port.
            lies = lying_rtcp()
            for pkt in lies:
                send_sock.sendto(pkt, rtcp_dest)
                send_sock.sendto(pkt, rtp_dest)
            drops.expect("RTCP with lying length fields", {("malformedRtcp",): 2 * len(lies)})

            # 4. Random bytes in the RTP/RTCP range: whatever they parse as, every one is
            # either dropped for some reason or (rarely) a valid RTCP compound.
            before = drops.read()
            for _ in range(300):
                send_sock.sendto(bytes([rng.randrange(128, 192)]) + random_bytes(rng, rng.randrange(0, 300)),
                                 rtp_dest)
            def all_accounted():
                s = drops.read()
                total = sum(s["dropped"].values()) - sum(before["dropped"].values())
                total += s["rtcpPacketsReceived"] - before["rtcpPacketsReceived"]
                return total >= 300
            wt.wait_until(all_accounted, 10, what="300 random RTP/RTCP-range datagrams to be accounted for")
            drops.base = drops.read()

            # 5. Wrong SRTP key on an SRTP transport: the HMAC-SHA1 tag cannot match.
            srtp_bid = "srtp-" + room
            wt.create_broadcaster(weir, room, srtp_bid)
            srtp_transport = wt.create_plain_transport(weir, room, srtp_bid, comedia=True, rtcpMux=True,
                                                       enableSrtp=True)
            key = base64.b64encode(os.urandom(30)).decode()
            wt.connect_transport(weir, room, srtp_bid, srtp_transport["id"],
                                 srtpParameters={"cryptoSuite": "AES_CM_128_HMAC_SHA1_80",
                                                 "keyBase64": key})
            wt.produce(weir, room, srtp_bid, srtp_transport["id"], 3333)
            srtp_drops = TransportDrops(weir, room, srtp_transport["id"])
            srtp_dest = ("127.0.0.1", srtp_transport["port"])
            for seq in range(50):
                # "Encrypted" with some other key: payload and tag are noise to weir.
                pkt = wt.rtp_packet(seq, seq * 3000, 3333, 101, random_bytes(rng, 200)) + random_bytes(rng, 10)
                srtp_sock.sendto(pkt, srtp_dest)
            srtp_drops.expect("SRTP with a wrong key", {("srtpAuthFailed",): 50})

            # 6. RTP from a stranger to the consumer's transport (connected to recv_sock).
            consumer_drops = TransportDrops(weir, room, fwd.consumer_transport["id"])
            consumer_dest = ("127.0.0.1", fwd.consumer_transport["port"])
            for seq in range(10):
                stranger.sendto(wt.rtp_packet(seq, 0, HEALTHY_SSRC, 101, b"z" * 50), consumer_dest)
            consumer_drops.expect("RTP from a stranger", {("unknownRemote",): 10})

            wt.check(weir.alive(), "weir died during the bad-input phases")
        finally:
            healthy.stop()

        wt.log(f"healthy stream: sent {healthy.sent}, received {len(healthy.received)}")
        wt.check(None not in healthy.received, "the consumer forwarded something that is not RTP")
        wt.check(healthy.sent > 100, f"only {healthy.sent} healthy packets were sent")
        lost = healthy.sent - len(healthy.received)
        wt.check(lost <= healthy.sent // 100,
                 f"healthy stream lost {lost} of {healthy.sent} packets (want < 1 %)")
        seqs = healthy.received
        gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != (a + 1) & 0xFFFF)
        wt.check(gaps <= healthy.sent // 100, f"healthy stream has {gaps} sequence gaps")

        pstats = weir.producer_stats(room, fwd.producer_id)
        wt.check(pstats["packetCount"] >= len(healthy.received),
                 f"producer packetCount {pstats['packetCount']} < received {len(healthy.received)}")
        server = weir.api("GET", "/stats")
        wt.check(server["producers"] >= 2 and server["consumers"] >= 1, f"server stats: {server}")
        wt.check(weir.alive(), "weir died")


if __name__ == "__main__":
    wt.main(run)
