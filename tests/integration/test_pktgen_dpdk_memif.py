#!/usr/bin/env python3
"""weir --dataplane dpdk against pktgen --mode dpdk, two processes joined by DPDK's
net_memif (weir the server, pktgen the client; EAL without hugepages or PCI), through
bench/scenario.py: a fanout of 20 consumers on ONE weir worker (so pktgen has one queue
pair, shared by its receiver and its sender), the same with WebRTC transports (ICE and
DTLS-SRTP for the producer and every consumer over the DPDK ports: the producer's arrive on
the receiving thread and are handed back to the sender's), a fanout of 30 on two workers
with --room-spread-threshold 10 (the room spreads, the producer's packets are piped from its
worker to the other over the workers' rings), then a meeting of 3 rooms on two workers
(pktgen polls two queues). All must deliver with SRTP verified on every packet, no
authentication failure, next to no loss, and pktgen must print its DPDK port's counters.

usage: test_pktgen_dpdk_memif.py WEIR PKTGEN"""
import json
import os
import re
import subprocess

import weirtest as wt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Small pools and rings: the test shares a 2-core machine with others.
DPDK_SMALL = ["--weir-eal-mb", "256", "--pktgen-eal-mb", "256", "--weir-mbufs", "8191",
              "--pktgen-mbufs", "8191", "--memif-rsize", "11"]
COUNTERS = re.compile(r"pktgen: received=(\d+) verified=(\d+) unverified=(\d+) authFailed=(\d+)")
PORT = re.compile(r"pktgen: dpdk port rx=(\d+) tx=(\d+) missed=(\d+) noMbuf=(\d+)")
RETURNED = re.compile(r"controlReturned=(\d+) controlDropped=(\d+)")
WORKERS = re.compile(r"weir workers: (\[.*\])")
WEBRTC_UP = re.compile(r"pktgen: webrtc: ICE and DTLS-SRTP up on (\d+) transports")


def scenario(weir_exe, pktgen_exe, args, timeout_s):
    cmd = ["python3", os.path.join(ROOT, "bench", "scenario.py"), *args, "--mode", "dpdk",
           "--weir", weir_exe, "--pktgen", pktgen_exe, "--verbose", *DPDK_SMALL]
    wt.log("running " + " ".join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                         stdin=subprocess.DEVNULL)
    print("scenario.py stderr:\n" + out.stderr)
    wt.check(out.returncode == 0, f"scenario.py exited {out.returncode}; stdout: {out.stdout!r}")
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    wt.check(len(lines) == 1, f"{len(lines)} result lines, want 1: {out.stdout!r}")
    wt.log("result: " + lines[0])
    r = json.loads(lines[0])
    wt.check(r["mode"] == "dpdk", f"mode {r['mode']}")
    wt.check(r["sent"] > 0 and r["forwarded"] > 0, f"nothing forwarded: {r}")
    wt.check(r["loss_pct"] < 1.0, f"loss {r['loss_pct']} % ({r['forwarded']} of {r['expected']})")
    wt.check(r["server_cpu_s"] is not None and r["server_rss_mb"], f"server figures: {r}")
    wt.check(r["latency_us"]["p99"] >= r["latency_us"]["p50"] > 0, f"latency {r['latency_us']}")
    m = COUNTERS.search(out.stderr)
    wt.check(m is not None, "pktgen printed no counters")
    received, verified, unverified, auth_failed = map(int, m.groups())
    wt.check(auth_failed == 0, f"{auth_failed} SRTP authentication failures")
    wt.check(verified >= r["forwarded"] and unverified == 0,
             f"verified {verified}, unverified {unverified}, forwarded {r['forwarded']}")
    p = PORT.search(out.stderr)
    wt.check(p is not None, "pktgen printed no DPDK port counters")
    port_rx, port_tx, missed, no_mbuf = map(int, p.groups())
    wt.check(port_rx >= received and port_tx >= r["sent"],
             f"port rx {port_rx} (received {received}), tx {port_tx} (sent {r['sent']})")
    wt.check(missed == 0 and no_mbuf == 0, f"pktgen's port missed {missed}, no mbuf {no_mbuf}")
    pid = re.search(r"weir pid (\d+)", out.stderr)
    wt.check(pid is not None, "the runner did not name weir's pid")
    wt.check(not os.path.exists(f"/proc/{pid.group(1)}"), f"weir (pid {pid.group(1)}) still runs")
    return r, out.stderr


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_pktgen_dpdk_memif.py <weir> <pktgen>")
    r, _ = scenario(weir_exe, pktgen_exe,
                    ["fanout", "20", "--workers", "1", "--duration", "3", "--warmup", "2"], 25)
    wt.check(r["consumers"] == 20 and r["expected"] == 20 * r["sent"], f"fanout shape: {r}")
    w, err = scenario(weir_exe, pktgen_exe,
                      ["fanout", "10", "--workers", "1", "--duration", "2", "--warmup", "2",
                       "--pktgen-args", "--transport webrtc"], 40)
    wt.check(w["consumers"] == 10 and w["expected"] == 10 * w["sent"], f"webrtc shape: {w}")
    up = WEBRTC_UP.search(err)
    wt.check(up is not None and int(up.group(1)) == 11,
             "ICE and DTLS-SRTP not up on the producer and all 10 consumers")
    ret = RETURNED.search(err)
    wt.check(ret is not None, "pktgen printed no controlReturned counter")
    returned, dropped = map(int, ret.groups())
    # The producer's ICE checks and DTLS flight came back to its thread: at least the binding
    # response and the server's DTLS flight.
    wt.check(returned >= 2 and dropped == 0, f"control returned {returned}, dropped {dropped}")
    spread, err = scenario(weir_exe, pktgen_exe,
                           ["fanout", "30", "--workers", "2", "--duration", "2", "--warmup", "2",
                            "--weir-args", "--room-spread-threshold 10"], 30)
    wt.check(spread["forwarded"] == spread["expected"] == 30 * spread["sent"],
             f"the spread room lost packets: {spread}")
    workers = WORKERS.search(err)
    wt.check(workers is not None, "the runner printed no worker counters")
    workers = json.loads(workers.group(1))
    wt.log(f"workers: {workers}")
    wt.check(len(workers) == 2, f"{len(workers)} workers")
    piped_out = sum(w["pipedOut"] for w in workers)
    piped_in = sum(w["pipedIn"] for w in workers)
    # Every producer packet once to the one other worker (not once per consumer there).
    wt.check(spread["sent"] <= piped_out <= spread["sent"] + 1000 and piped_in == piped_out,
             f"piped out {piped_out}, in {piped_in}, for {spread['sent']} sent")
    wt.check(all(w["pipeFull"] == 0 and w["pipeUnknownProducer"] == 0 for w in workers),
             f"pipe drops: {workers}")
    m, _ = scenario(weir_exe, pktgen_exe,
                    ["meeting", "--rooms", "3", "--peers", "3", "--workers", "2", "--duration",
                     "2", "--warmup", "2"], 25)
    wt.check((m["rooms"], m["peers"], m["consumers"]) == (3, 3, 36), f"meeting shape: {m}")


if __name__ == "__main__":
    wt.main(run)
