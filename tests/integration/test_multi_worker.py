"""Two dataplane workers and a room larger than the spread threshold: pktgen's fanout with
30 plain consumers against weir --workers 2 --room-spread-threshold 10. The room spreads
its consumers over both workers, the producer's packets are piped from its worker to the
other, and every consumer gets every packet. The workers run pinned (--worker-cpus, in
reverse order of the CPUs this test may use) under their own thread names; a CPU the process
may not use stops weir at startup with the reason."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import weirtest as wt

CONSUMERS = 30


def worker_affinity(pid):
    """{thread name: its allowed CPU list} for weir's worker threads."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{task}/comm") as f:
                name = f.read().strip()
            with open(f"{task}/status") as f:
                allowed = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("Cpus_allowed_list"))
        except (OSError, StopIteration):
            continue
        if name.startswith("weir-worker-"):
            out[name] = allowed
    return out


def check_unusable_cpu_refused(weir_exe):
    # Parses (below 1024) but no process here may run there: the worker does not start.
    state_dir = tempfile.mkdtemp(prefix="weir-state-")
    try:
        proc = subprocess.run([weir_exe, "--http-port", "0", "--state-dir", state_dir,
                               "--worker-cpus", "1000"],
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    output = proc.stdout + proc.stderr
    wt.check(proc.returncode != 0, f"weir started on CPU 1000: {output[-400:]}")
    wt.check("cannot pin to CPU 1000" in output, f"no reason given: {output[-400:]}")


def run(weir_exe, pktgen_exe):
    wt.check(pktgen_exe is not None, "usage: test_multi_worker.py <weir> <pktgen>")
    check_unusable_cpu_refused(weir_exe)
    cpus = sorted(os.sched_getaffinity(0))
    pinned = [cpus[-1], cpus[0]]  # worker 0 on the last CPU, worker 1 on the first
    with wt.Weir(weir_exe, rtc_ports=200,
                 extra_args=["--workers", "2", "--room-spread-threshold", "10",
                             "--worker-cpus", ",".join(map(str, pinned))]) as weir:
        affinity = worker_affinity(weir.proc.pid)
        wt.log(f"worker threads: {affinity}")
        wt.check(affinity == {"weir-worker-0": str(pinned[0]), "weir-worker-1": str(pinned[1])},
                 f"workers not pinned to {pinned}: {affinity}")
        args = [pktgen_exe, "--api", weir.api_url, "--consumers", str(CONSUMERS),
                "--duration", "3", "--warmup", "2", "--server-pid", str(weir.proc.pid), "--quiet"]
        wt.log("running " + " ".join(args))
        pktgen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL)
        # While it runs: how many consumers each worker served at most.
        most = [0, 0]
        deadline = time.monotonic() + 45
        while pktgen.poll() is None and time.monotonic() < deadline:
            for w in weir.api("GET", "/stats")["workers"]:
                most[w["index"]] = max(most[w["index"]], w["consumers"])
            time.sleep(0.2)
        try:
            stdout, stderr = pktgen.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pktgen.kill()
            pktgen.communicate()
            raise wt.TestFailure("pktgen did not finish within 45 s")
        if pktgen.returncode != 0 or stderr.strip():
            print("pktgen stderr:\n" + stderr)
        wt.check(pktgen.returncode == 0, f"pktgen exited {pktgen.returncode}; stdout: {stdout!r}")
        lines = [line for line in stdout.splitlines() if line.strip()]
        wt.check(len(lines) == 1, f"pktgen printed {len(lines)} lines on stdout, want 1")
        result = json.loads(lines[0])
        wt.log("pktgen: " + lines[0])
        wt.check(result["consumers"] == CONSUMERS and result["sent"] > 0, f"result {result}")
        wt.check(result["forwarded"] == result["expected"] and result["loss_pct"] == 0,
                 f"loss: forwarded {result['forwarded']} of {result['expected']}")

        wt.log(f"most consumers per worker while running: {most}")
        wt.check(most[0] + most[1] == CONSUMERS, f"consumers per worker {most}")
        # 11 at home before the room spread, then the least-loaded worker each time.
        wt.check(min(most) >= 10, f"the room did not spread: consumers per worker {most}")
        workers = weir.api("GET", "/stats")["workers"]
        wt.log("workers: " + json.dumps([{k: w[k] for k in ("index", "pipedOut", "pipedIn",
                                                             "pipeFull", "pipeUnknownProducer")}
                                          for w in workers]))
        out = sum(w["pipedOut"] for w in workers)
        wt.check(out > 0, "nothing was piped between the workers")
        # Once per received packet (one other worker), not once per consumer.
        received = sum(w["rxPackets"] for w in workers)
        wt.check(out <= received, f"piped {out} packets for {received} received")
        wt.check(all(w["pipeFull"] == 0 for w in workers), f"a pipe was full: {workers}")
        # What was piped arrived, or found its producer's copy gone at the teardown.
        arrived = sum(w["pipedIn"] + w["pipeUnknownProducer"] for w in workers)
        wt.check(arrived == out, f"piped out {out}, in or unknown {arrived}: {workers}")
        # pktgen deleted its broadcasters: nothing left on either worker.
        wt.check(all(w["transports"] == 0 and w["consumers"] == 0 for w in workers),
                 f"left behind: {workers}")


if __name__ == "__main__":
    wt.main(run)
