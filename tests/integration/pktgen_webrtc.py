"""Running `pktgen --transport webrtc` from an integration test (python3 stdlib only).

pktgen runs in the background with --report, so that a test can read the ids of what it
built (the report's "running" phase, written once every ICE check and DTLS handshake is
done), watch weir's own stats of those transports while media flows, and check the final
report (phase "done", with weir's stats taken just before pktgen's teardown) and the
JSON result line afterwards. The process is always stopped by its PID.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import weirtest as wt

MAX_LOSS_PCT = 0.1
ICE_UP = ("completed", "connected")


class PktgenRun:
    """One pktgen process. Use as a context manager: stopped (by PID) on exit."""

    def __init__(self, pktgen_exe, weir, args, timeout_s=120):
        self.work = tempfile.mkdtemp(prefix="pktgen-webrtc-")
        self.report_path = os.path.join(self.work, "report.json")
        self.args = [pktgen_exe, "--api", weir.api_url,
                     "--transport", "webrtc", "--server-pid", str(weir.proc.pid),
                     "--report", self.report_path, "--quiet", *args]
        self.timeout_s = timeout_s
        self.proc = None
        self.stdout = self.stderr = ""

    def __enter__(self):
        wt.log("running " + " ".join(self.args))
        self.out_file = open(os.path.join(self.work, "stdout"), "w+")
        self.err_file = open(os.path.join(self.work, "stderr"), "w+")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.out_file,
                                     stderr=self.err_file)
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._collect()
        if exc is not None and self.stderr:
            print("pktgen stderr:\n" + self.stderr)
        self.out_file.close()
        self.err_file.close()
        shutil.rmtree(self.work, ignore_errors=True)
        return False

    def _collect(self):
        self.out_file.seek(0)
        self.stdout = self.out_file.read()
        self.err_file.seek(0)
        self.stderr = self.err_file.read()

    def report(self):
        try:
            with open(self.report_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_report(self, phase, timeout_s=60):
        """The report once it has reached `phase`; fails if pktgen exits before."""
        def ready():
            r = self.report()
            if r is not None and r.get("phase") == phase:
                return r
            if self.proc.poll() is not None:
                r = self.report()
                if r is not None and r.get("phase") == phase:
                    return r
                self._collect()
                raise wt.TestFailure(f"pktgen exited {self.proc.returncode} before its report "
                                     f"reached phase {phase!r}; stderr:\n{self.stderr}")
            return None
        return wt.wait_until(ready, timeout_s, interval_s=0.05, what=f"pktgen's {phase} report")

    def running(self):
        return self.proc.poll() is None

    def finish(self):
        """Waits for pktgen to exit; returns (exit code, result line as a dict or None)."""
        remaining = max(1.0, self.timeout_s - (time.monotonic() - self.started))
        try:
            self.proc.wait(remaining)
        except subprocess.TimeoutExpired:
            raise wt.TestFailure(f"pktgen still running after {self.timeout_s} s")
        self._collect()
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if self.proc.returncode != 0 or len(lines) != 1:
            print("pktgen stderr:\n" + self.stderr)
        markers = [m for m in wt.SANITIZER_MARKERS if m in self.stderr]
        wt.check(not markers, f"pktgen printed a sanitizer report ({markers}):\n{self.stderr}")
        wt.check(len(lines) == 1, f"pktgen printed {len(lines)} lines on stdout, want 1: "
                                  f"{self.stdout!r}")
        result = json.loads(lines[0])
        wt.log("pktgen: " + lines[0])
        return self.proc.returncode, result


def check_result(result, measured, impaired=0):
    """The result line of a WebRTC fanout run with `measured` consumers counted."""
    wt.check(result.get("scenario") == "fanout" and result.get("transport") == "webrtc",
             f"not a WebRTC fanout line: {result}")
    wt.check(result["consumers"] == measured, f"consumers {result['consumers']}, want {measured}")
    wt.check(result.get("impaired_consumers", 0) == impaired,
             f"impaired_consumers {result.get('impaired_consumers', 0)}, want {impaired}")
    wt.check(result["sent"] > 0 and result["expected"] == result["sent"] * measured,
             f"sent {result['sent']} expected {result['expected']}")
    wt.check(result["loss_pct"] < MAX_LOSS_PCT,
             f"loss {result['loss_pct']} % (forwarded {result['forwarded']} of "
             f"{result['expected']}), want < {MAX_LOSS_PCT} %")


def weir_transport_stats(weir, room, transport_id):
    """weir's stats entry for a transport, or None once it is gone."""
    status, answer = weir.request("GET", f"/rooms/{room}/transports/{transport_id}/stats")
    if status != 200 or not isinstance(answer, list) or not answer:
        return None
    return answer[0]


def check_server_clean(weir):
    stats = weir.api("GET", "/stats")
    wt.check(stats["transports"] == 0 and stats["consumers"] == 0,
             f"after pktgen the server still has {stats['transports']} transports, "
             f"{stats['consumers']} consumers")
