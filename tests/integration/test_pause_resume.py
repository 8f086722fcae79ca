"""A consumer's sequence numbers and timestamps stay continuous across a consumer
pause/resume and a producer pause/resume: after a resume the next packet the consumer
sends is last+1, and its timestamp moves forward."""

import time

import weirtest as wt

TS_STEP = 3000  # 30 fps at 90 kHz


class Stream:
    def __init__(self, weir, fwd, send_sock, recv_sock):
        self.weir, self.fwd = weir, fwd
        self.send_sock, self.recv_sock = send_sock, recv_sock
        self.seq, self.ts = 1000, 123456
        self.dest = ("127.0.0.1", fwd.producer_transport["port"])

    def send(self, count, expect):
        """Sends count packets (each a VP8 key-frame start, so a consumer syncs at once)
        and returns the (seq, ts) the consumer delivered (waiting for `expect` of them)."""
        for _ in range(count):
            pkt = wt.rtp_packet(self.seq, self.ts, 2222, 101, wt.vp8_keyframe_payload(300),
                                marker=True)
            self.send_sock.sendto(pkt, self.dest)
            self.seq = (self.seq + 1) & 0xFFFF
            self.ts = (self.ts + TS_STEP) & 0xFFFFFFFF
            time.sleep(0.002)
        got = []
        for data in wt.receive_all(self.recv_sock, expect=expect, quiet_s=0.5):
            parsed = wt.parse_rtp(data)
            wt.check(parsed is not None, f"consumer sent a packet that is not RTP: {data[:16].hex()}")
            pt, _, seq, ts, ssrc, _ = parsed
            wt.check(ssrc == self.fwd.consumer_ssrc, f"ssrc {ssrc} != consumer ssrc {self.fwd.consumer_ssrc}")
            wt.check(pt == self.fwd.consumer_pt, f"pt {pt} != consumer pt {self.fwd.consumer_pt}")
            got.append((seq, ts))
        return got


def check_phase(stream, name, got, count):
    if len(got) != count:
        stats = stream.weir.consumer_stats(stream.fwd.room, stream.fwd.consumer["id"])
        pstats = stream.weir.producer_stats(stream.fwd.room, stream.fwd.producer_id)
        nonzero = {k: v for k, v in stats["dropped"].items() if v}
        raise wt.TestFailure(f"{name}: consumer delivered {len(got)} of {count} packets "
                             f"(seqs {[seq for seq, _ in got]}); consumer packetCount "
                             f"{stats['packetCount']}, drops {nonzero}; producer packetCount "
                             f"{pstats['packetCount']}, paused {pstats['paused']}")
    for (s0, t0), (s1, t1) in zip(got, got[1:]):
        wt.check(s1 == (s0 + 1) & 0xFFFF, f"{name}: seq {s0} followed by {s1}")
        wt.check(t1 == (t0 + TS_STEP) & 0xFFFFFFFF, f"{name}: ts {t0} followed by {t1}")


def check_resumed(name, before, after, paused_packets, paused_s):
    (s0, t0), (s1, t1) = before[-1], after[0]
    wt.check(s1 == (s0 + 1) & 0xFFFF,
             f"{name}: first seq after resume {s1}, want last+1 = {(s0 + 1) & 0xFFFF}")
    delta = (t1 - t0) & 0xFFFFFFFF
    # Forward, and no further than the input moved or the wall clock ran (whichever
    # the server follows), with a second of slack.
    limit = max((paused_packets + 1) * TS_STEP, int((paused_s + 1.0) * 90000))
    wt.check(0 < delta <= limit, f"{name}: timestamp moved by {delta} across the pause (want 1..{limit})")


def run(weir_exe, _pktgen):
    send_sock = wt.udp_socket()
    recv_sock = wt.udp_socket()
    with wt.Weir(weir_exe) as weir:
        fwd = wt.Forwarding(weir, recv_sock.getsockname()[1])
        fwd.connect_and_consume()
        stream = Stream(weir, fwd, send_sock, recv_sock)
        base = f"/rooms/{fwd.room}/broadcasters"
        consumer_path = f"{base}/{fwd.consumer_bid}/consumers/{fwd.consumer['id']}"
        producer_path = f"{base}/{fwd.producer_bid}/producers/{fwd.producer_id}"

        first = stream.send(20, 20)
        check_phase(stream, "before pauses", first, 20)

        weir.api("POST", consumer_path + "/pause")
        t_pause = time.monotonic()
        check_phase(stream, "consumer paused", stream.send(10, 0), 0)
        stats = weir.consumer_stats(fwd.room, fwd.consumer["id"])
        wt.check(stats["paused"] is True, f"consumer stats say paused={stats['paused']}")
        wt.check(wt.dropped(stats, "paused") == 10, f"consumer dropped {stats['dropped']} (want paused: 10)")
        weir.api("POST", consumer_path + "/resume")
        after_consumer = stream.send(20, 20)
        check_phase(stream, "after consumer resume", after_consumer, 20)
        check_resumed("consumer pause/resume", first, after_consumer, 10, time.monotonic() - t_pause)

        weir.api("POST", producer_path + "/pause")
        t_pause = time.monotonic()
        check_phase(stream, "producer paused", stream.send(10, 0), 0)
        stats = weir.consumer_stats(fwd.room, fwd.consumer["id"])
        wt.check(stats["producerPaused"] is True, f"consumer stats say producerPaused={stats['producerPaused']}")
        pstats = weir.producer_stats(fwd.room, fwd.producer_id)
        wt.check(pstats["paused"] is True, f"producer stats say paused={pstats['paused']}")
        weir.api("POST", producer_path + "/resume")
        after_producer = stream.send(20, 20)
        check_phase(stream, "after producer resume", after_producer, 20)
        check_resumed("producer pause/resume", after_consumer, after_producer, 10,
                      time.monotonic() - t_pause)

        stats = weir.consumer_stats(fwd.room, fwd.consumer["id"])
        wt.check(stats["packetCount"] == 60, f"consumer packetCount {stats['packetCount']} (want 60)")
        pstats = weir.producer_stats(fwd.room, fwd.producer_id)
        wt.check(pstats["packetCount"] == 80, f"producer packetCount {pstats['packetCount']} (want 80)")
        wt.check(pstats["packetsLost"] == 0, f"producer packetsLost {pstats['packetsLost']}")


if __name__ == "__main__":
    wt.main(run)
