"""bench/meeting.sh end to end against the real weir and pktgen: 2 rooms x 3 peers for
2 s (each peer producing audio and video and consuming the other two peers' four
producers) must print one meeting line with the right shape and no loss, and leave no
weir behind."""

import json
import os
import re
import subprocess

import weirtest as wt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_meeting_bench.py <weir> <pktgen>")
    rtc_min, _ = wt.rtc_port_range(200)
    cmd = [os.path.join(ROOT, "bench", "meeting.sh"), "--weir", weir_exe, "--pktgen", pktgen_exe,
           "--rooms", "2", "--peers", "3", "--duration", "2", "--warmup", "2",
           "--rtc-min-port", str(rtc_min)]
    wt.log("running " + " ".join(cmd))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DURATION", "WARMUP", "SUITE", "HTTP_PORT", "RTC_MIN_PORT", "RTC_MAX_PORT",
                        "PKTGEN_ARGS", "VERBOSE", "MODE", "BUILD_DIR")}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env=env)
    print("meeting.sh stderr:\n" + out.stderr)
    wt.check(out.returncode == 0, f"meeting.sh exited {out.returncode}; stdout: {out.stdout!r}")
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    wt.check(len(lines) == 1, f"meeting.sh printed {len(lines)} lines on stdout, want 1: {out.stdout!r}")
    r = json.loads(lines[0])
    wt.log("meeting: " + lines[0])
    wt.check(r["scenario"] == "meeting" and r["mode"] == "uring", f"line {r}")
    wt.check((r["rooms"], r["peers"], r["producers"], r["consumers"]) == (2, 3, 12, 24),
             f"shape: rooms {r['rooms']} peers {r['peers']} producers {r['producers']} "
             f"consumers {r['consumers']}")
    wt.check(r["offered_pps"] == 6 * 150 and r["audio_pps"] == 50 and r["video_pps"] == 100,
             f"rates {r['offered_pps']} {r['audio_pps']} {r['video_pps']}")
    # 6 peers x (50 + 100) packets/s for about 2 s, each reaching the 2 other peers.
    wt.check(1500 <= r["sent"] <= 2100, f"sent {r['sent']} in {r['duration_s']} s")
    wt.check(r["expected"] == 2 * r["sent"], f"expected {r['expected']} for sent {r['sent']}")
    wt.check(r["forwarded"] == r["expected"] and r["loss_pct"] == 0,
             f"loss: forwarded {r['forwarded']} of {r['expected']} ({r['loss_pct']} %)")
    wt.check(r["server_cpu_s"] is not None and r["cpu_ns_per_fwd"] is not None
             and r["server_rss_mb"] and r["protect_ns"] > 0, f"server figures: {r}")
    wt.check(r["latency_us"]["p99"] >= r["latency_us"]["p50"] > 0, f"latency {r['latency_us']}")
    m = re.search(r"weir pid (\d+)", out.stderr)
    wt.check(m is not None, "the runner did not name weir's pid")
    wt.check(not os.path.exists(f"/proc/{m.group(1)}"), f"weir (pid {m.group(1)}) still runs")


if __name__ == "__main__":
    wt.main(run)
