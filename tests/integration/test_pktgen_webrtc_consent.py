"""ICE consent freshness (RFC 7675) through weir: a consumer that goes silent loses its
media, the others do not notice.

weir runs with --ice-consent-timeout 2. pktgen (10 consumers, consent checks every ~0.4 s)
makes one consumer silent 1 s into an 8 s window: it stops sending checks and ignores
everything arriving on its socket.

Pass: weir's stats show that transport's iceState "disconnected" within a generous bound
while the others stay up, and weir stops sending it media (rtpPacketsSent stands still);
pktgen exits 0 with loss < 0.1 % over the 9 others; in weir's final stats the silent
transport is still disconnected and every other one completed/connected.
"""

import time

import pktgen_webrtc as pw
import weirtest as wt

CONSUMERS = 10
DURATION_S = 8
SILENCE_AT_S = 1
SLACK = 5  # packets


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_webrtc_consent.py <weir> <pktgen>")
    with wt.Weir(weir_exe, extra_args=["--ice-consent-timeout", "2"], rtc_ports=100) as weir:
        args = ["--consumers", str(CONSUMERS), "--silent-consumers", "1",
                "--silence-at", str(SILENCE_AT_S), "--consent-interval", "0.4",
                "--duration", str(DURATION_S), "--warmup", "5"]
        with pw.PktgenRun(pktgen_exe, weir, args) as run:
            running = run.wait_report("running")
            room = running["room"]
            silent = [c for c in running["consumers"] if c["role"] == "silent"]
            wt.check(len(silent) == 1, f"pktgen reports {len(silent)} silent consumers")
            silent_tid = silent[0]["transportId"]
            others = [c["transportId"] for c in running["consumers"] if c["role"] == "measured"]

            # Silence at 1 s, consent lost 2 s later, weir sweeps once a second: well within
            # the window, which ends 8 s in (then pktgen tears everything down).
            observed = None
            while run.running():
                s = pw.weir_transport_stats(weir, room, silent_tid)
                if s is None:
                    break
                if s["iceState"] == "disconnected":
                    observed = s
                    break
                time.sleep(0.1)
            if observed is not None:
                wt.log(f"silent transport disconnected during the run (sent "
                       f"{observed['rtpPacketsSent']} RTP packets so far)")
                up = [tid for tid in others
                      if (pw.weir_transport_stats(weir, room, tid) or {}).get("iceState")
                      in pw.ICE_UP]
                if run.running():
                    wt.check(len(up) == len(others),
                             f"{len(others) - len(up)} measured transports lost ICE too")
                time.sleep(1.2)
                later = pw.weir_transport_stats(weir, room, silent_tid)
                if later is not None and run.running():
                    # A packet the worker had in hand as consent went may still leave.
                    wt.check(later["rtpPacketsSent"] - observed["rtpPacketsSent"] <= SLACK,
                             f"weir kept sending to the disconnected transport: "
                             f"{observed['rtpPacketsSent']} -> {later['rtpPacketsSent']}")
            rc, result = run.finish()
            wt.check(rc == 0, f"pktgen exited {rc}")
            pw.check_result(result, CONSUMERS - 1, impaired=1)
            done = run.report()
        stats = done["weirStats"]
        wt.check(stats[silent_tid]["iceState"] == "disconnected",
                 f"silent transport at the end: iceState {stats[silent_tid]['iceState']}")
        wt.check(observed is not None, "pktgen ended before weir's stats showed the silent "
                                       "transport disconnected (the final stats did)")
        for tid in others:
            wt.check(stats[tid]["iceState"] in pw.ICE_UP,
                     f"measured transport {tid}: iceState {stats[tid]['iceState']}")
        silent_done = [c for c in done["consumers"] if c["role"] == "silent"][0]
        wt.check(silent_done["silent"] and silent_done["received"] > 0,
                 f"the silent consumer should have received media before its silence: "
                 f"{silent_done}")
        wt.check(stats[silent_tid]["rtpPacketsSent"] - observed["rtpPacketsSent"] <= SLACK,
                 f"weir sent the silent consumer {observed['rtpPacketsSent']} packets by its "
                 f"disconnection, {stats[silent_tid]['rtpPacketsSent']} by the end")
        pw.check_server_clean(weir)


if __name__ == "__main__":
    wt.main(run)
