"""ICE restart while media flows: pktgen calls restartIce on the producer's transport and
on one consumer's 1.5 s into a 4 s window, switches both endpoints to the new credentials
(weir's new ufrag and password, and new ones of its own), and keeps sending. On weir's
shared port, where a new ufrag must route too.

Pass: exit 0 (pktgen fails the run if a restarted endpoint never got a check answered
with the new credentials), loss < 0.1 %; weir's producer transport stays ICE
completed/connected throughout (sampled while the run goes on) and at the end, DTLS
connected; both restarts are reported completed; weir logged both restarts.
"""

import time

import pktgen_webrtc as pw
import weirtest as wt

CONSUMERS = 10


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_webrtc_restart.py <weir> <pktgen>")
    shared_port = wt.free_udp_port_pair()
    with wt.Weir(weir_exe, extra_args=["--webrtc-server-port", str(shared_port)],
                 rtc_ports=100) as weir:
        args = ["--consumers", str(CONSUMERS), "--restart-ice", "both", "--restart-ice-at", "1.5",
                "--consent-interval", "0.5", "--duration", "4", "--warmup", "5"]
        with pw.PktgenRun(pktgen_exe, weir, args) as run:
            running = run.wait_report("running")
            room = running["room"]
            producer_tid = running["producer"]["transportId"]
            samples = []
            while run.running():
                s = pw.weir_transport_stats(weir, room, producer_tid)
                if s is None:
                    break
                samples.append(s["iceState"])
                time.sleep(0.1)
            rc, result = run.finish()
            wt.check(rc == 0, f"pktgen exited {rc}")
            pw.check_result(result, CONSUMERS)
            done = run.report()
        wt.check(samples and all(st in pw.ICE_UP for st in samples),
                 f"producer transport iceState samples during the run: {sorted(set(samples))}")
        wt.log(f"producer transport iceState, {len(samples)} samples: {sorted(set(samples))}")
        wt.check(done["webrtc"]["iceRestartError"] == "", f"restart: {done['webrtc']}")
        wt.check(done["producer"]["iceRestartRequested"]
                 and done["producer"]["iceRestartsCompleted"] >= 1,
                 f"producer restart: {done['producer']}")
        restarted = [c for c in done["consumers"] if c["iceRestartRequested"]]
        wt.check(len(restarted) == 1 and restarted[0]["iceRestartsCompleted"] >= 1,
                 f"consumer restart: {restarted}")
        # The consent checks after the restart used the new credentials and were answered.
        wt.check(restarted[0]["iceSuccesses"] >= 3, f"restarted consumer: {restarted[0]}")
        for tid in [producer_tid, restarted[0]["transportId"]]:
            s = done["weirStats"][tid]
            wt.check(s["iceState"] in pw.ICE_UP and s["dtlsState"] == "connected",
                     f"transport {tid} at the end: {s['iceState']} / {s['dtlsState']}")
        wt.check(restarted[0]["windowForwarded"] == result["sent"],
                 f"restarted consumer got {restarted[0]['windowForwarded']} of {result['sent']}")
        restarts_logged = weir.log_text().count("ICE restarted")
        wt.check(restarts_logged == 2, f"weir logged {restarts_logged} ICE restarts, want 2")
        pw.check_server_clean(weir)


if __name__ == "__main__":
    wt.main(run)
