"""pktgen's fanout scenario against a real weir: 20 SRTP consumers for 3 s, exit 0, one
JSON result line on stdout, no loss."""

import json
import subprocess

import weirtest as wt

REQUIRED_KEYS = ["scenario", "mode", "suite", "producers", "consumers", "offered_pps", "duration_s",
                 "sent", "expected", "forwarded", "loss_pct", "server_cpu_s", "cpu_ns_per_fwd",
                 "latency_us", "server_rss_mb", "protect_ns", "git"]


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_smoke.py <weir> <pktgen>")
    with wt.Weir(weir_exe, rtc_ports=200) as weir:
        args = [pktgen_exe, "--api", weir.api_url, "--consumers", "20",
                "--duration", "3", "--warmup", "2", "--server-pid", str(weir.proc.pid), "--quiet"]
        wt.log("running " + " ".join(args))
        out = subprocess.run(args, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        if out.returncode != 0 or out.stderr.strip():
            print("pktgen stderr:\n" + out.stderr)
        wt.check(out.returncode == 0, f"pktgen exited {out.returncode}; stdout: {out.stdout!r}")
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        wt.check(len(lines) == 1, f"pktgen printed {len(lines)} lines on stdout, want 1: {out.stdout!r}")
        result = json.loads(lines[0])
        wt.log("pktgen: " + lines[0])
        missing = [k for k in REQUIRED_KEYS if k not in result]
        wt.check(not missing, f"pktgen's line lacks {missing}")
        wt.check(result["scenario"] == "fanout" and result["consumers"] == 20, f"result {result}")
        wt.check(result["sent"] > 0 and result["expected"] == result["sent"] * 20,
                 f"sent {result['sent']} expected {result['expected']}")
        wt.check(result["forwarded"] == result["expected"] and result["loss_pct"] == 0,
                 f"loss: forwarded {result['forwarded']} of {result['expected']} ({result['loss_pct']} %)")
        # pktgen leaves the server clean: both broadcasters deleted.
        stats = weir.api("GET", "/stats")
        wt.check(stats["transports"] == 0 and stats["consumers"] == 0,
                 f"after pktgen the server still has {stats['transports']} transports, "
                 f"{stats['consumers']} consumers")


if __name__ == "__main__":
    wt.main(run)
