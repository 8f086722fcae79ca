#!/usr/bin/env python3
"""weir's benchmark scenarios (docs/benchmarks.md), one command each:

  bench/scenario.py fanout   [N ...]  [options]   1 video producer -> N consumers per run
  bench/scenario.py meeting  [options]            R rooms x K peers (--rooms/--peers, or the
                                                  scenario file's list of shapes)
  bench/scenario.py capacity [options]            fanout runs doubling N, then bisecting, to
                                                  the largest N within the loss and p99 limits

Each starts weir (--log-level warn, its own HTTPS port, RTC port range and state
directory; the descriptor limit raised), waits until /stats answers, runs tools/pktgen
with --server-pid once per measurement, prints every JSON result line on stdout as it
comes, and stops weir by its PID at the end, on failure and on Ctrl-C. The parameters
(counts, rates, payloads, suite, duration, limits) come from bench/scenarios/<name>.json
(or --scenario-file); options override them. --mode dpdk runs both weir and pktgen on
DPDK over a net_memif pair instead of kernel UDP sockets. --plot FILE.svg draws the
fanout lines of the run (bench/plot.py replots saved lines). It builds nothing: build
first (ninja -C build src/app/weir tools/pktgen/pktgen).

Python 3 standard library only.
"""

import argparse
import http.client
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO_DIR = os.path.join(ROOT, "bench", "scenarios")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import svgplot  # noqa: E402  (bench/ is not a package)

# DPDK mode: EAL without hugepages or PCI (--in-memory is refused with --no-huge), and a
# net_memif pair, weir the server and pktgen the client (its socket is abstract: nothing is
# left behind); media on 10.77.0.0/24, the HTTPS API stays on the kernel's loopback.
DPDK_EAL_COMMON = "--no-huge --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error"
WEIR_MAC, PKTGEN_MAC = "02:77:00:00:00:01", "02:77:00:00:00:02"
DPDK_PREFIX_LENGTH = 24
# Transports beyond the scenario's own that weir's port range keeps free.
PORT_SLACK = 64
# Descriptors pktgen and weir need beyond one per consumer (engines, TLS, logs).
FD_SLACK = 128


class RunnerError(Exception):
    """A run that cannot go on (weir died, pktgen failed, bad parameters)."""


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Scenario files and the capacity search (pure: tested without weir)

def load_scenario(path):
    with open(path) as f:
        spec = json.load(f)
    if not isinstance(spec, dict) or "scenario" not in spec:
        raise RunnerError(f"{path}: not a scenario file (no \"scenario\" key)")
    return spec


def within_limits(line, limits):
    """(True, None) when a fanout line meets the limits, else (False, "loss" | "latency")."""
    if line.get("loss_pct") is None or line["loss_pct"] > limits["loss_pct"]:
        return False, "loss"
    p99 = (line.get("latency_us") or {}).get("p99")
    if p99 is None or p99 > limits["latency_p99_us"]:
        return False, "latency"
    return True, None


def search_capacity(measure, start, max_n, max_runs, limits, precision_pct):
    """The largest N for which measure(N) (a fanout result line, or None for a failed run)
    stays within limits: N doubles from start (capped at max_n) until a run fails, then
    bisects between the last good and the first bad N until they are within precision_pct
    of the good one (or 1 apart). At most max_runs measurements.

    Returns {"best_n": int (0: none good), "best": line or None, "first_bad": N or None,
    "limited_by": "loss" | "latency" | "failed" | "max_consumers" | "max_runs",
    "runs": [{"n", "line", "ok", "reason"}]}."""
    if start < 1 or max_n < start or max_runs < 1:
        raise RunnerError(f"capacity: need 1 <= start ({start}) <= max ({max_n}), runs >= 1")
    runs = []
    good_n, good_line = 0, None
    bad_n, bad_reason = None, None

    def run(n):
        line = measure(n)
        ok, reason = (False, "failed") if line is None else within_limits(line, limits)
        runs.append({"n": n, "line": line, "ok": ok, "reason": reason})
        return ok, reason, line

    n = start
    while len(runs) < max_runs:
        ok, reason, line = run(n)
        if not ok:
            bad_n, bad_reason = n, reason
            break
        good_n, good_line = n, line
        if n >= max_n:
            break
        n = min(2 * n, max_n)
    if bad_n is not None:
        while len(runs) < max_runs:
            if bad_n - good_n <= max(1, good_n * precision_pct / 100.0):
                break
            mid = (good_n + bad_n) // 2
            if mid <= good_n:
                break
            ok, reason, line = run(mid)
            if ok:
                good_n, good_line = mid, line
            else:
                bad_n, bad_reason = mid, reason
    if bad_n is not None:
        limited_by = bad_reason
    elif good_n >= max_n:
        limited_by = "max_consumers"
    else:
        limited_by = "max_runs"
    return {"best_n": good_n, "best": good_line, "first_bad": bad_n, "limited_by": limited_by,
            "runs": runs}


def capacity_line(result, spec, mode, git):
    """The final {"scenario":"capacity",...} line: the best run's figures under the keys of a
    fanout line, with consumers the largest N that met the limits."""
    best = result["best"] or {}
    out = {"scenario": "capacity", "mode": mode, "suite": spec["suite"], "producers": 1,
           "consumers": result["best_n"], "offered_pps": spec["rate_pps"],
           "limits": dict(spec["limits"]), "first_bad": result["first_bad"],
           "limited_by": result["limited_by"], "runs": len(result["runs"])}
    for key in ("duration_s", "sent", "expected", "forwarded", "loss_pct", "server_cpu_s",
                "cpu_ns_per_fwd", "latency_us", "server_rss_mb", "protect_ns"):
        out[key] = best.get(key)
    out["git"] = git
    return out


# ---------------------------------------------------------------------------------------
# weir and pktgen processes

def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit():
    """Both children inherit it: one socket per transport in weir, per consumer in pktgen."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ephemeral_port_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def rtc_port_range(rtc_min, rtc_max, ports_needed):
    """weir's media port range: as given, else ports_needed (+ slack) from 20000, moved
    down below the kernel's ephemeral ports when it would reach them (pktgen's own sockets
    take ephemeral ports before weir binds its transports)."""
    size = ports_needed + PORT_SLACK
    if rtc_min is None:
        rtc_min = 20000
        if rtc_max is None and rtc_min + size > ephemeral_port_low():
            rtc_min = max(1024, ephemeral_port_low() - size)
    if rtc_max is None:
        rtc_max = min(65535, rtc_min + size - 1)
    return rtc_min, rtc_max


class Weir:
    """The weir process: started by start(), stopped by PID in stop() (always called)."""

    def __init__(self, exe, args, log_path):
        self.exe, self.args, self.log_path = exe, args, log_path
        self.prefix = []  # taskset, when pinned: it execs weir, so the pid stays weir's
        self.proc = None
        self.state_dir = None
        self.http_port = None

    def start(self, http_port, timeout_s=30):
        self.http_port = http_port
        self.state_dir = tempfile.mkdtemp(prefix="weir-bench-state-")
        cmd = [*self.prefix, self.exe, "--log-level", "warn", "--http-port", str(http_port),
               "--state-dir", self.state_dir, *self.args]
        log("starting " + " ".join(shlex.quote(c) for c in cmd))
        with open(self.log_path, "ab") as out:
            # Its own session: Ctrl-C reaches the runner, which stops weir itself.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RunnerError(f"weir exited with {self.proc.returncode} during startup; "
                                  f"its log:\n{self.log_tail()}")
            if self.answers():
                return
            if time.monotonic() > deadline:
                raise RunnerError(f"weir's API on port {http_port} did not answer within "
                                  f"{timeout_s} s; its log:\n{self.log_tail()}")
            time.sleep(0.1)

    def answers(self):
        return self.stats() is not None

    def stats(self):
        """weir's GET /stats, parsed; None when it does not answer."""
        # weir's certificate is self-signed: not verified (as curl -k).
        conn = http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=2,
                                           context=ssl._create_unverified_context())
        try:
            conn.request("GET", "/stats")
            response = conn.getresponse()
            body = response.read()
            return json.loads(body) if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            conn.close()

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"weir (pid {self.proc.pid}) did not exit within 10 s of SIGTERM: killed")
                self.proc.kill()
                self.proc.wait()
            if self.proc.returncode not in (0, -signal.SIGTERM):
                log(f"weir exited with {self.proc.returncode}; its log ({self.log_path}):\n"
                    + self.log_tail())
        self.proc = None
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None


def cpu_split(cpus, workers, mode, pin):
    """The CPUs weir and pktgen are pinned to (taskset), or None to leave both to the
    scheduler. auto pins in DPDK mode when the host has a CPU beyond weir's workers: left
    alone, a busy worker and pktgen's busy receiver sometimes share one core until the load
    balancer moves one, and the p99 of such a run measures the scheduler. weir (its workers
    and its control thread) gets the first `workers` CPUs, pktgen the rest. on: the same in
    either mode, an error when there are too few CPUs."""
    cpus = sorted(cpus)
    workers = workers or 1
    if pin == "off" or (pin == "auto" and mode != "dpdk"):
        return None
    if len(cpus) <= workers:
        if pin == "on":
            raise RunnerError(f"--pin on: {len(cpus)} CPU(s) leave none for pktgen beside "
                              f"{workers} weir worker(s)")
        return None
    return cpus[:workers], cpus[workers:]


def taskset_prefix(cpus):
    return ["taskset", "-c", ",".join(str(c) for c in cpus)] if cpus else []


class Runner:
    """One scenario command: weir up for its whole length, pktgen once per measurement."""

    def __init__(self, opts, spec):
        self.opts, self.spec = opts, spec
        self.lines = []
        self.pktgen_proc = None
        self.weir = None
        self.git = git_revision()
        self.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.pinning = cpu_split(os.sched_getaffinity(0), self.workers(), opts.mode, opts.pin)

    # -- processes -------------------------------------------------------------------------

    def workers(self):
        """weir's --workers: as given (weir's own default, 1, when not). In DPDK mode
        pktgen's port gets as many queue pairs (--dpdk-queues): memif gives a client no
        more queues than the server has, and every weir worker sends on its own queue."""
        o = self.opts
        if o.mode == "dpdk":
            return o.workers or 1
        return o.workers

    def weir_args(self, ports_needed):
        o = self.opts
        workers = self.workers()
        if o.mode == "dpdk":
            # Worker i serves only the ports p with (p - min) % workers == i, and a room's
            # transports all live on one worker: each needs its count of ports per worker.
            ports_needed *= workers
        rtc_min, rtc_max = rtc_port_range(o.rtc_min_port, o.rtc_max_port, ports_needed)
        if rtc_max - rtc_min + 1 < ports_needed:
            raise RunnerError(f"the RTC port range {rtc_min}-{rtc_max} is smaller than the "
                              f"{ports_needed} ports the scenario needs")
        args = ["--rtc-min-port", str(rtc_min), "--rtc-max-port", str(rtc_max)]
        if workers:
            args += ["--workers", str(workers)]
        if o.mode == "dpdk":
            eal = (f"{DPDK_EAL_COMMON} -m {o.weir_eal_mb} --file-prefix weir-bench-{os.getpid()} "
                   f"--vdev=net_memif0,role=server,socket={self.memif_socket},mac={WEIR_MAC}")
            args += ["--http-ip", "127.0.0.1", "--dataplane", "dpdk", "--listen-ip", o.weir_ip,
                     "--dpdk-prefix-length", str(DPDK_PREFIX_LENGTH),
                     "--dpdk-mbufs", str(o.weir_mbufs), "--dpdk-eal-args", eal]
        return args + shlex.split(o.weir_args)

    def pktgen_mode_args(self):
        o = self.opts
        if o.mode != "dpdk":
            return []
        eal = (f"{DPDK_EAL_COMMON} -m {o.pktgen_eal_mb} --file-prefix pktgen-bench-{os.getpid()} "
               f"--vdev=net_memif0,role=client,socket={self.memif_socket},mac={PKTGEN_MAC},"
               f"rsize={o.memif_rsize}")
        return ["--mode", "dpdk", "--local-ip", o.pktgen_ip,
                "--dpdk-prefix-length", str(DPDK_PREFIX_LENGTH),
                "--dpdk-mbufs", str(o.pktgen_mbufs), "--dpdk-queues", str(self.workers()),
                "--dpdk-eal-args", eal]

    @property
    def memif_socket(self):
        return self.opts.memif_socket or f"/tmp/weir-bench-{os.getpid()}.sock"

    def start_weir(self, ports_needed):
        log_path = self.opts.weir_log or os.path.join(
            tempfile.gettempdir(), f"weir-bench-{self.spec['scenario']}-{os.getpid()}.log")
        self.weir = Weir(self.opts.weir, self.weir_args(ports_needed), log_path)
        if self.pinning:
            self.weir.prefix = taskset_prefix(self.pinning[0])
            log(f"pinned: weir on CPU {','.join(map(str, self.pinning[0]))}, pktgen on CPU "
                f"{','.join(map(str, self.pinning[1]))} (--pin off: neither)")
        self.weir.start(self.opts.http_port or free_tcp_port())
        log(f"weir pid {self.weir.pid}, API https://127.0.0.1:{self.weir.http_port}, "
            f"log {log_path}")

    def pktgen(self, scenario_args):
        """Runs pktgen once; returns its result line (a dict), None if it printed none."""
        o, spec = self.opts, self.spec
        cmd = [*taskset_prefix(self.pinning[1] if self.pinning else None),
               o.pktgen, "--api", f"https://127.0.0.1:{self.weir.http_port}",
               "--duration", str(spec["duration_s"]), "--warmup", str(spec["warmup_s"]),
               "--suite", spec["suite"], "--server-pid", str(self.weir.pid), "--git", self.git,
               *scenario_args, *self.pktgen_mode_args()]
        if not o.verbose:
            cmd.append("--quiet")
        cmd += shlex.split(o.pktgen_args)
        if o.verbose:
            log("running " + " ".join(shlex.quote(c) for c in cmd))
        result = None
        self.pktgen_proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            text=True)
        try:
            for text in self.pktgen_proc.stdout:
                text = text.strip()
                if not text:
                    continue
                try:
                    line = json.loads(text)
                except ValueError:
                    print(text, file=sys.stderr)
                    continue
                self.emit(line, text)  # pktgen's own text, byte for byte
                result = line
            rc = self.pktgen_proc.wait()
        finally:
            self.stop_pktgen()
        if not self.weir.alive():
            raise RunnerError(f"weir died during the run; its log:\n{self.weir.log_tail()}")
        if rc != 0:
            log(f"pktgen exited with {rc}: {' '.join(scenario_args)}")
        self.log_workers()
        return result

    def log_workers(self):
        """One line of weir's per-worker counters (cumulative since weir started): what a
        spread room piped between workers and what the engines dropped."""
        stats = self.weir.stats()
        if stats is None:
            log("weir's /stats did not answer after the run")
            return
        keys = ("index", "txPackets", "pipedOut", "pipedIn", "pipeFull", "pipeUnknownProducer")
        workers = [{**{k: w.get(k) for k in keys}, "txDropped": w.get("io", {}).get("txDropped")}
                   for w in stats.get("workers", [])]
        log("weir workers: " + json.dumps(workers, separators=(",", ":")))

    def stop_pktgen(self):
        proc, self.pktgen_proc = self.pktgen_proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def emit(self, line, text=None):
        text = text or json.dumps(line, separators=(",", ":"))
        print(text, flush=True)
        self.lines.append(line)
        if self.opts.lines:
            with open(self.opts.lines, "a") as f:
                f.write(text + "\n")

    def close(self):
        self.stop_pktgen()
        if self.weir is not None:
            self.weir.stop()

    # -- scenarios -------------------------------------------------------------------------

    def fanout_args(self, n):
        spec = self.spec
        return ["--consumers", str(n), "--rate", str(spec["rate_pps"]),
                "--payload", str(spec["payload_bytes"])]

    def run_fanout(self):
        counts = self.spec["consumers"]
        # DPDK mode: media ports are numbers in weir's and pktgen's own stacks, no descriptors.
        if self.opts.mode != "dpdk" and max(counts) > self.fd_limit - FD_SLACK:
            raise RunnerError(f"N={max(counts)} needs more descriptors than the limit "
                              f"{self.fd_limit} allows (raise ulimit -Hn)")
        self.start_weir(max(counts) + 1)
        failed = 0
        for n in counts:
            if self.pktgen(self.fanout_args(n)) is None:
                failed += 1
        return 0 if failed == 0 else 1

    def run_meeting(self):
        spec = self.spec
        shapes = spec["runs"]
        self.start_weir(max(2 * s["rooms"] * s["peers"] for s in shapes))
        failed = 0
        for s in shapes:
            args = ["--scenario", "meeting", "--rooms", str(s["rooms"]), "--peers", str(s["peers"]),
                    "--rate", str(spec["video"]["rate_pps"]),
                    "--payload", str(spec["video"]["payload_bytes"]),
                    "--audio-rate", str(spec["audio"]["rate_pps"]),
                    "--audio-payload", str(spec["audio"]["payload_bytes"])]
            if self.pktgen(args) is None:
                failed += 1
        return 0 if failed == 0 else 1

    def run_capacity(self):
        spec = self.spec
        # pktgen holds a socket per consumer and weir one per transport: N stays below the
        # descriptor limit.
        fd_cap = self.fd_limit - FD_SLACK
        if self.opts.mode != "dpdk" and spec["max_consumers"] > fd_cap:
            log(f"capacity: max_consumers {spec['max_consumers']} lowered to {fd_cap} "
                f"(descriptor limit {self.fd_limit})")
            spec["max_consumers"] = max(fd_cap, spec["start_consumers"])
        self.start_weir(spec["max_consumers"] + 1)

        def measure(n):
            log(f"capacity: N={n}")
            return self.pktgen(self.fanout_args(n))

        result = search_capacity(measure, spec["start_consumers"], spec["max_consumers"],
                                 spec["max_runs"], spec["limits"], spec["precision_pct"])
        self.emit(capacity_line(result, spec, self.opts.mode, self.git))
        return 0


def git_revision():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# ---------------------------------------------------------------------------------------
# Command line

def positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=["fanout", "meeting", "capacity"])
    p.add_argument("counts", nargs="*", type=positive_int, metavar="N",
                   help="fanout: consumer counts, one run each (default: the scenario file's)")
    p.add_argument("--scenario-file", help="default bench/scenarios/<scenario>.json")
    p.add_argument("--mode", choices=["uring", "dpdk"], default="uring",
                   help="uring: kernel UDP on loopback; dpdk: both on DPDK over net_memif")
    p.add_argument("--build", default=os.environ.get("BUILD_DIR", "build"),
                   help="build tree with src/app/weir and tools/pktgen/pktgen (default build)")
    p.add_argument("--weir", help="weir executable (default <build>/src/app/weir)")
    p.add_argument("--pktgen", help="pktgen executable (default <build>/tools/pktgen/pktgen)")
    p.add_argument("--duration", type=float, help="measured seconds per run")
    p.add_argument("--warmup", type=float, help="longest warm-up per run, seconds")
    p.add_argument("--suite", help="SRTP suite (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM, ...)")
    p.add_argument("--rate", type=positive_int, help="video packets/s per producer")
    p.add_argument("--rooms", type=positive_int, help="meeting: rooms (with --peers: one run)")
    p.add_argument("--peers", type=positive_int, help="meeting: peers per room")
    p.add_argument("--start", type=positive_int, help="capacity: first N")
    p.add_argument("--max-consumers", type=positive_int, help="capacity: largest N tried")
    p.add_argument("--max-runs", type=positive_int, help="capacity: most measurements")
    p.add_argument("--http-port", type=int, default=0, help="weir's API port (default: a free one)")
    p.add_argument("--rtc-min-port", type=int,
                   help="weir's lowest media port (default 20000, lower when the range would "
                        "reach the kernel's ephemeral ports)")
    p.add_argument("--rtc-max-port", type=int,
                   help="default: min + the transports the scenario needs + 64")
    p.add_argument("--weir-args", default="",
                   help="more weir options, one string: --weir-args='--workers 2'")
    p.add_argument("--pktgen-args", default="",
                   help="more pktgen options, one string: --pktgen-args='--verify-sample 8'")
    p.add_argument("--weir-log", help="weir's log file (default a file in $TMPDIR)")
    p.add_argument("--lines", help="also append every JSON line to this file")
    p.add_argument("--plot", help="write the SVG plot of the run's fanout lines here")
    p.add_argument("--verbose", action="store_true", help="pktgen's progress on stderr")
    p.add_argument("--pin", choices=["auto", "on", "off"], default="auto",
                   help="pin weir to its workers' CPUs and pktgen to the others (taskset); "
                        "auto (default): in DPDK mode, when there is a CPU to spare")
    dp = p.add_argument_group("DPDK mode (--mode dpdk: weir and pktgen over a net_memif pair)")
    p.add_argument("--workers", type=positive_int,
                   help="weir's dataplane workers (default weir's own, 1); --mode dpdk: also "
                        "pktgen's --dpdk-queues")
    dp.add_argument("--memif-socket", help="default /tmp/weir-bench-<pid>.sock (abstract)")
    dp.add_argument("--memif-rsize", type=positive_int, default=14,
                    help="log2 of pktgen's memif ring slots (default 14)")
    dp.add_argument("--weir-ip", default="10.77.0.1", help="weir's media address (--listen-ip)")
    dp.add_argument("--pktgen-ip", default="10.77.0.2", help="pktgen's media address")
    dp.add_argument("--weir-eal-mb", type=positive_int, default=1024, help="weir's EAL -m")
    dp.add_argument("--pktgen-eal-mb", type=positive_int, default=1024, help="pktgen's EAL -m")
    dp.add_argument("--weir-mbufs", type=positive_int, default=32767,
                    help="weir's --dpdk-mbufs (per queue)")
    dp.add_argument("--pktgen-mbufs", type=positive_int, default=65535,
                    help="pktgen's --dpdk-mbufs (per queue)")
    # Counts may come after options (the wrappers put their environment options first).
    opts = p.parse_intermixed_args(argv)
    if opts.counts and opts.scenario != "fanout":
        p.error("consumer counts are the fanout scenario's")
    if (opts.rooms is None) != (opts.peers is None):
        p.error("--rooms and --peers go together")
    if opts.rooms is not None and opts.scenario != "meeting":
        p.error("--rooms/--peers are the meeting scenario's")
    build = opts.build if os.path.isabs(opts.build) else os.path.join(ROOT, opts.build)
    opts.weir = os.path.abspath(opts.weir or os.path.join(build, "src", "app", "weir"))
    opts.pktgen = os.path.abspath(opts.pktgen or os.path.join(build, "tools", "pktgen", "pktgen"))
    return opts


def effective_spec(opts):
    """The scenario file's parameters with the command line's overrides."""
    path = opts.scenario_file or os.path.join(SCENARIO_DIR, opts.scenario + ".json")
    spec = load_scenario(path)
    if spec["scenario"] != opts.scenario:
        raise RunnerError(f"{path} is a {spec['scenario']} scenario, not {opts.scenario}")
    for key, value in (("duration_s", opts.duration), ("warmup_s", opts.warmup),
                       ("suite", opts.suite)):
        if value is not None:
            spec[key] = value
    if opts.rate is not None:
        if opts.scenario == "meeting":
            spec["video"]["rate_pps"] = opts.rate
        else:
            spec["rate_pps"] = opts.rate
    if opts.counts:
        spec["consumers"] = opts.counts
    if opts.rooms is not None:
        spec["runs"] = [{"rooms": opts.rooms, "peers": opts.peers}]
    for key, value in (("start_consumers", opts.start), ("max_consumers", opts.max_consumers),
                       ("max_runs", opts.max_runs)):
        if value is not None:
            spec[key] = value
    return spec


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    for exe in (opts.weir, opts.pktgen):
        if not os.access(exe, os.X_OK):
            log(f"{exe} not found; build it first (ninja -C build src/app/weir tools/pktgen/pktgen)")
            return 2
    try:
        spec = effective_spec(opts)
    except (OSError, ValueError, KeyError, RunnerError) as e:
        log(f"scenario file: {e}")
        return 2
    fds = raise_fd_limit()
    log(f"{opts.scenario} ({opts.mode}): descriptor limit {fds}")

    # SIGTERM and SIGHUP end the run like Ctrl-C: through the finally below. SIGINT is set
    # too: a shell starting the runner in the background leaves it ignored.
    def terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminate)

    runner = Runner(opts, spec)
    status = 1
    try:
        status = {"fanout": runner.run_fanout, "meeting": runner.run_meeting,
                  "capacity": runner.run_capacity}[opts.scenario]()
    except RunnerError as e:
        log(str(e))
        status = 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        runner.close()
    if opts.plot:
        try:
            svgplot.write(opts.plot, runner.lines,
                          f"weir {opts.scenario} ({opts.mode}, git {runner.git}): cost per "
                          f"forwarded packet and p99 latency against N")
            log(f"plot written to {opts.plot}")
        except ValueError as e:
            log(f"no plot: {e}")
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
