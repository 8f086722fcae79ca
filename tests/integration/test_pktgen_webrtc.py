"""pktgen --transport webrtc against a real weir: 20 consumers and a producer, each on a
WebRTC transport (ICE from pktgen's controlling agent to weir's ICE-lite, DTLS-SRTP with
keys from the handshake), ~3 s of media. Run twice: each transport on its own port (with
pktgen alternating its DTLS role, so weir is DTLS server on some transports and client on
others), and every transport on weir's one shared port (--webrtc-server-port).

Pass: exit 0, one JSON line with "transport":"webrtc", loss < 0.1 %; in weir's stats (taken
by pktgen just before its teardown) every transport has ICE completed/connected and DTLS
connected, on the shared port where that applies, the consumers' receiver reports
arrived (rtcpPacketsReceived > 0) and the producer's media did; the server is clean after.
"""

import pktgen_webrtc as pw
import weirtest as wt

CONSUMERS = 20


def one_run(weir_exe, pktgen_exe, shared):
    extra = []
    shared_port = None
    if shared:
        shared_port = wt.free_udp_port_pair()
        extra = ["--webrtc-server-port", str(shared_port)]
    with wt.Weir(weir_exe, extra_args=extra, rtc_ports=200) as weir:
        args = ["--consumers", str(CONSUMERS), "--duration", "3", "--warmup", "5",
                "--dtls-role", "client" if shared else "mixed"]
        with pw.PktgenRun(pktgen_exe, weir, args) as run:
            running = run.wait_report("running")
            wt.check(len(running["consumers"]) == CONSUMERS, f"report: {running}")
            rc, result = run.finish()
            wt.check(rc == 0, f"pktgen exited {rc}")
            pw.check_result(result, CONSUMERS)
            done = run.report()
        wt.check(done is not None and done["phase"] == "done", f"final report: {done}")
        stats = done["weirStats"]
        producer = stats[done["producer"]["transportId"]]
        wt.check(producer["rtpPacketsReceived"] >= result["sent"],
                 f"producer transport received {producer['rtpPacketsReceived']} RTP packets, "
                 f"pktgen sent {result['sent']} in the window alone")
        roles = set()
        for c in done["consumers"]:
            wt.check(c["endpointState"] == "connected" and c["received"] > 0,
                     f"consumer {c['index']} in pktgen: {c}")
            roles.add(c["dtlsRole"])
        for tid, s in stats.items():
            wt.check(isinstance(s, dict), f"no stats for transport {tid}: {s}")
            wt.check(s["iceState"] in pw.ICE_UP and s["dtlsState"] == "connected",
                     f"transport {tid}: iceState {s['iceState']}, dtlsState {s['dtlsState']}")
            wt.check(wt.dropped(s, "srtpAuthFailed") == 0, f"transport {tid}: SRTP failures {s}")
            if shared:
                local = s.get("iceSelectedTuple", {}).get("localPort")
                wt.check(local == shared_port,
                         f"transport {tid} selected local port {local}, want the shared "
                         f"{shared_port}")
        for c in done["consumers"]:
            s = stats[c["transportId"]]
            wt.check(s["rtcpPacketsReceived"] > 0,
                     f"consumer {c['index']}: weir got none of its receiver reports: {s}")
        if not shared:
            wt.check(roles == {"client", "server"}, f"pktgen's DTLS roles: {roles}")
        pw.check_server_clean(weir)
    wt.log(f"{'shared port' if shared else 'per-transport ports'}: ok")


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_webrtc.py <weir> <pktgen>")
    one_run(weir_exe, pktgen_exe, shared=False)
    one_run(weir_exe, pktgen_exe, shared=True)


if __name__ == "__main__":
    wt.main(run)
