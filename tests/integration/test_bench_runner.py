"""bench/scenario.py's parts that need no weir: the capacity search against fake
measurements (doubling, bisection, its bounds and stop reasons), the final capacity line,
the scenario files and command-line overrides, and the SVG plot (bench/svgplot.py, and
bench/plot.py replotting saved lines)."""

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import weirtest as wt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import scenario  # noqa: E402
import svgplot  # noqa: E402

LIMITS = {"loss_pct": 0.1, "latency_p99_us": 20000}
SVG = "{http://www.w3.org/2000/svg}"


def fanout_line(n, loss=0.0, p99=1000, cpu_ns=3000, protect_ns=1000, suite="AES_CM_128_HMAC_SHA1_80"):
    return {"scenario": "fanout", "mode": "uring", "suite": suite, "producers": 1, "consumers": n,
            "offered_pps": 100, "duration_s": 10.0, "sent": 1000, "expected": 1000 * n,
            "forwarded": 1000 * n, "loss_pct": loss, "server_cpu_s": cpu_ns * n * 1e-6,
            "cpu_ns_per_fwd": cpu_ns, "latency_us": {"p50": p99 // 2, "p99": p99},
            "server_rss_mb": 40.0, "protect_ns": protect_ns, "git": "abc1234"}


class FakeServer:
    """Loses packets above loss_above consumers and is slow above slow_above; None (a failed
    run) at the counts in failing."""

    def __init__(self, loss_above=None, slow_above=None, failing=()):
        self.loss_above, self.slow_above, self.failing = loss_above, slow_above, set(failing)
        self.asked = []

    def __call__(self, n):
        self.asked.append(n)
        if n in self.failing:
            return None
        loss = 1.5 if self.loss_above is not None and n > self.loss_above else 0.0
        p99 = 30000 if self.slow_above is not None and n > self.slow_above else 5000
        return fanout_line(n, loss=loss, p99=p99)


def test_within_limits():
    wt.check(scenario.within_limits(fanout_line(10), LIMITS) == (True, None), "a clean run is good")
    wt.check(scenario.within_limits(fanout_line(10, loss=0.1), LIMITS)[0],
             "exactly 0.1 % loss is within the limit")
    wt.check(scenario.within_limits(fanout_line(10, loss=0.11), LIMITS) == (False, "loss"), "loss")
    wt.check(scenario.within_limits(fanout_line(10, p99=20001), LIMITS) == (False, "latency"),
             "latency")
    wt.check(scenario.within_limits({"loss_pct": 0}, LIMITS) == (False, "latency"),
             "a line without latency is not good")


def test_doubling_then_bisection():
    fake = FakeServer(loss_above=3000)
    r = scenario.search_capacity(fake, 250, 16000, 20, LIMITS, 10)
    wt.check(fake.asked == [250, 500, 1000, 2000, 4000, 3000, 3500, 3250],
             f"measured {fake.asked}")
    wt.check(r["best_n"] == 3000 and r["best"]["consumers"] == 3000, f"best {r['best_n']}")
    wt.check(r["first_bad"] == 3250 and r["limited_by"] == "loss", f"result {r}")
    wt.check([run["ok"] for run in r["runs"]] == [True] * 4 + [False, True, False, False],
             "per-run verdicts")


def test_latency_limit_and_precision():
    fake = FakeServer(slow_above=1234)
    r = scenario.search_capacity(fake, 100, 100000, 50, LIMITS, 1)
    wt.check(r["limited_by"] == "latency", f"limited by {r['limited_by']}")
    wt.check(r["best_n"] <= 1234 < r["first_bad"], f"best {r['best_n']} first bad {r['first_bad']}")
    wt.check(r["first_bad"] - r["best_n"] <= max(1, r["best_n"] * 0.01),
             f"interval {r['best_n']}..{r['first_bad']} wider than 1 %")
    # Precision 0: bisection goes on until the two are 1 apart.
    fake = FakeServer(slow_above=1234)
    r = scenario.search_capacity(fake, 100, 100000, 50, LIMITS, 0)
    wt.check((r["best_n"], r["first_bad"]) == (1234, 1235), f"exact: {r['best_n']} {r['first_bad']}")


def test_first_run_bad_searches_below_start():
    fake = FakeServer(loss_above=100)
    r = scenario.search_capacity(fake, 250, 16000, 30, LIMITS, 10)
    wt.check(fake.asked[0] == 250 and fake.asked[1] == 125, f"measured {fake.asked}")
    wt.check(0 < r["best_n"] <= 100 and r["first_bad"] > 100, f"result {r['best_n']} {r['first_bad']}")
    nothing = scenario.search_capacity(FakeServer(loss_above=0), 1, 100, 5, LIMITS, 10)
    wt.check(nothing["best_n"] == 0 and nothing["best"] is None and nothing["first_bad"] == 1,
             f"no good N: {nothing}")


def test_bounds():
    fake = FakeServer()
    r = scenario.search_capacity(fake, 250, 16000, 20, LIMITS, 10)
    wt.check(fake.asked == [250, 500, 1000, 2000, 4000, 8000, 16000], f"measured {fake.asked}")
    wt.check(r["best_n"] == 16000 and r["limited_by"] == "max_consumers" and r["first_bad"] is None,
             f"result {r}")
    # A max that is no power-of-two multiple of start is still measured.
    fake = FakeServer()
    scenario.search_capacity(fake, 300, 1000, 20, LIMITS, 10)
    wt.check(fake.asked == [300, 600, 1000], f"measured {fake.asked}")
    # The number of runs is bounded, in both phases.
    for max_runs, limit in ((3, None), (6, 3000)):
        fake = FakeServer(loss_above=limit)
        r = scenario.search_capacity(fake, 250, 16000, max_runs, LIMITS, 0)
        wt.check(len(fake.asked) == max_runs == len(r["runs"]), f"{len(fake.asked)} runs, max {max_runs}")
    wt.check(scenario.search_capacity(FakeServer(), 250, 16000, 3, LIMITS, 10)["limited_by"] == "max_runs",
             "stopped by the run bound")
    try:
        scenario.search_capacity(FakeServer(), 500, 100, 3, LIMITS, 10)
        wt.check(False, "start above max accepted")
    except scenario.RunnerError:
        pass


def test_failed_run_counts_as_bad():
    fake = FakeServer(failing={1000})
    r = scenario.search_capacity(fake, 250, 16000, 20, LIMITS, 10)
    wt.check(r["runs"][2]["reason"] == "failed" and r["first_bad"] == 1000
             and 500 < r["best_n"] < 1000 and r["limited_by"] == "failed",
             f"result {r['best_n']} {r['limited_by']}")


def test_capacity_line():
    spec = scenario.load_scenario(os.path.join(ROOT, "bench", "scenarios", "capacity.json"))
    r = scenario.search_capacity(FakeServer(loss_above=3000), spec["start_consumers"],
                                 spec["max_consumers"], spec["max_runs"], spec["limits"],
                                 spec["precision_pct"])
    line = scenario.capacity_line(r, spec, "uring", "abc1234")
    text = json.dumps(line, separators=(",", ":"))
    wt.check("\n" not in text, "one line")
    back = json.loads(text)
    wt.check(back["scenario"] == "capacity" and back["consumers"] == r["best_n"] > 0, f"line {back}")
    for key in ("mode", "suite", "producers", "offered_pps", "limits", "first_bad", "limited_by",
                "runs", "duration_s", "sent", "expected", "forwarded", "loss_pct", "server_cpu_s",
                "cpu_ns_per_fwd", "latency_us", "server_rss_mb", "protect_ns", "git"):
        wt.check(key in back, f"capacity line lacks {key}")
    wt.check(back["limits"] == {"loss_pct": 0.1, "latency_p99_us": 20000}, "the file's limits")
    wt.check(back["latency_us"]["p99"] == 5000, "the best run's figures")


def test_scenario_files_and_overrides():
    for name in ("fanout", "meeting", "capacity"):
        spec = scenario.effective_spec(scenario.parse_args([name]))
        wt.check(spec["scenario"] == name, name)
        for key in ("suite", "duration_s", "warmup_s"):
            wt.check(key in spec, f"{name}.json lacks {key}")
    fan = scenario.effective_spec(scenario.parse_args(["fanout", "20", "40", "--duration", "2",
                                                       "--suite", "AEAD_AES_128_GCM"]))
    wt.check(fan["consumers"] == [20, 40] and fan["duration_s"] == 2.0
             and fan["suite"] == "AEAD_AES_128_GCM", f"fanout overrides: {fan}")
    meet = scenario.effective_spec(scenario.parse_args(["meeting", "--rooms", "2", "--peers", "3",
                                                        "--rate", "50"]))
    wt.check(meet["runs"] == [{"rooms": 2, "peers": 3}] and meet["video"]["rate_pps"] == 50,
             f"meeting overrides: {meet}")
    cap = scenario.effective_spec(scenario.parse_args(["capacity", "--start", "10",
                                                       "--max-consumers", "80", "--max-runs", "4"]))
    wt.check((cap["start_consumers"], cap["max_consumers"], cap["max_runs"]) == (10, 80, 4),
             f"capacity overrides: {cap}")
    wt.check(cap["limits"] == LIMITS, f"capacity limits {cap['limits']}")
    for bad in (["meeting", "5"], ["meeting", "--rooms", "2"], ["fanout", "--rooms", "1", "--peers", "2"],
                ["fanout", "0"], ["capacity", "--mode", "kernel"]):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "scenario.py"), *bad],
                              capture_output=True, text=True, timeout=30)
        wt.check(proc.returncode == 2, f"{bad}: exit {proc.returncode}, want 2")
    # The DPDK branch: weir and pktgen each get their end of the memif pair.
    opts = scenario.parse_args(["fanout", "--mode", "dpdk"])
    runner = scenario.Runner(opts, scenario.effective_spec(opts))
    weir_args = runner.weir_args(101)
    eal = weir_args[weir_args.index("--dpdk-eal-args") + 1]
    wt.check("--dataplane" in weir_args and "role=server" in eal and "--no-huge" in eal
             and weir_args[weir_args.index("--listen-ip") + 1] == "10.77.0.1", f"weir {weir_args}")
    wt.check(weir_args[weir_args.index("--workers") + 1] == "1", "DPDK mode: 1 worker by default")
    pk = runner.pktgen_mode_args()
    wt.check(pk[pk.index("--dpdk-queues") + 1] == "1", f"pktgen: one queue pair for one worker {pk}")
    # memif gives the client no more queues than the server: pktgen gets one per worker.
    opts3 = scenario.parse_args(["fanout", "--mode", "dpdk", "--workers", "3"])
    runner3 = scenario.Runner(opts3, scenario.effective_spec(opts3))
    weir3 = runner3.weir_args(101)
    wt.check(weir3[weir3.index("--workers") + 1] == "3", f"DPDK mode: --workers 3 {weir3}")
    pk3 = runner3.pktgen_mode_args()
    wt.check(pk3[pk3.index("--dpdk-queues") + 1] == "3", f"pktgen: a queue per worker {pk3}")
    rtc = (int(weir3[weir3.index("--rtc-min-port") + 1]),
           int(weir3[weir3.index("--rtc-max-port") + 1]))
    wt.check(rtc[1] - rtc[0] + 1 >= 3 * 101, f"DPDK mode: ports for every worker: {rtc}")
    pk_eal = pk[pk.index("--dpdk-eal-args") + 1]
    wt.check(pk[:2] == ["--mode", "dpdk"] and "role=client" in pk_eal
             and pk[pk.index("--local-ip") + 1] == "10.77.0.2", f"pktgen {pk}")
    wt.check(pk_eal.split("--file-prefix ")[1].split()[0] != eal.split("--file-prefix ")[1].split()[0],
             "distinct EAL file prefixes")
    wt.check(pk_eal.split("socket=")[1].split(",")[0] == eal.split("socket=")[1].split(",")[0],
             "one memif socket for both")
    uring = scenario.Runner(scenario.parse_args(["fanout"]), fan)
    wt.check(uring.pktgen_mode_args() == [], "uring mode adds nothing")
    wt.check("--workers" not in uring.weir_args(101) and "--dataplane" not in uring.weir_args(101),
             "uring mode: weir's defaults")


def check_svg(text, want_labels):
    root = ET.fromstring(text)  # well-formed XML
    wt.check(root.tag == SVG + "svg", f"root {root.tag}")
    texts = [t.text or "" for t in root.iter(SVG + "text")]
    for label in want_labels:
        wt.check(any(label in t for t in texts), f"the plot has no text {label!r}")
    width = float(root.get("width"))
    height = float(root.get("height"))
    for line in root.iter(SVG + "polyline"):
        for pair in line.get("points").split():
            px, py = (float(v) for v in pair.split(","))
            wt.check(0 <= px <= width and 0 <= py <= height, f"point {pair} outside the canvas")
    return root


def test_svg_plot():
    lines = [fanout_line(n, cpu_ns=3000 + n, p99=1000 + 5 * n) for n in (100, 500, 1000, 2000)]
    lines += [fanout_line(500, cpu_ns=2000, protect_ns=500, suite="AEAD_AES_128_GCM"),
              fanout_line(1000, cpu_ns=2400, protect_ns=500, suite="AEAD_AES_128_GCM")]
    lines.append({"scenario": "meeting", "rooms": 1, "peers": 5})  # not plotted
    lines.append({"scenario": "capacity", "consumers": 1500, "limits": LIMITS})
    root = check_svg(svgplot.render(lines),
                     ["uring, AES_CM_128_HMAC_SHA1_80", "uring, AEAD_AES_128_GCM", "capacity 1500",
                      "limit 20 ms", "consumers N", "p99 one-way latency (ms)",
                      "server CPU per forwarded packet (ns)", "multiple of one SRTP protect",
                      "100", "1000", "2000"])
    polylines = list(root.iter(SVG + "polyline"))
    # Per series: ns, multiple of protect, p99 latency.
    wt.check(len(polylines) == 6, f"{len(polylines)} polylines, want 6")
    first = [tuple(float(v) for v in p.split(",")) for p in polylines[0].get("points").split()]
    wt.check(len(first) in (2, 4), f"series points {first}")
    xs = [p[0] for p in first]
    wt.check(xs == sorted(xs), "points in N order")
    # Repeated runs at one N are one point (their median).
    dup = [fanout_line(100, cpu_ns=c) for c in (1000, 5000, 3000)]
    root = check_svg(svgplot.render(dup), ["uring"])
    pts = list(root.iter(SVG + "polyline"))[0].get("points").split()
    wt.check(len(pts) == 1, f"one point for one N, got {pts}")
    wt.check(svgplot._median([1000, 5000, 3000]) == 3000, "median")
    try:
        svgplot.render([{"scenario": "meeting"}])
        wt.check(False, "a plot without fanout lines")
    except ValueError:
        pass
    wt.check(svgplot.nice_ticks(0, 5450) == [0, 2000, 4000, 6000], str(svgplot.nice_ticks(0, 5450)))
    wt.check(svgplot.log_ticks(250, 4000) == [200, 500, 1000, 2000, 5000],
             str(svgplot.log_ticks(250, 4000)))


def test_plot_command():
    with tempfile.TemporaryDirectory(prefix="bench-plot-") as d:
        src = os.path.join(d, "lines.jsonl")
        with open(src, "w") as f:
            f.write("pktgen: not a JSON line\n")
            for n in (100, 200, 400):
                f.write(json.dumps(fanout_line(n)) + "\n")
        out = os.path.join(d, "out.svg")
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plot.py"), src, "-o", out],
                              capture_output=True, text=True, timeout=30)
        wt.check(proc.returncode == 0, f"plot.py exit {proc.returncode}: {proc.stderr}")
        with open(out) as f:
            check_svg(f.read(), ["uring, AES_CM_128_HMAC_SHA1_80", "400"])
        empty = os.path.join(d, "empty.jsonl")
        open(empty, "w").close()
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "plot.py"), empty,
                               "-o", out], capture_output=True, text=True, timeout=30)
        wt.check(proc.returncode == 1, "nothing to plot is an error")


def test_cpu_split():
    split = scenario.cpu_split
    # auto pins in DPDK mode only, weir on its workers' CPUs, pktgen on the rest.
    wt.check(split({0, 1}, 1, "dpdk", "auto") == ([0], [1]), "2 CPUs, 1 worker")
    wt.check(split({3, 1, 2, 0}, 2, "dpdk", "auto") == ([0, 1], [2, 3]), "4 CPUs, 2 workers")
    wt.check(split({0, 1}, None, "dpdk", "auto") == ([0], [1]), "no --workers: weir's 1")
    wt.check(split({0, 1}, 1, "uring", "auto") is None, "io_uring is left to the scheduler")
    wt.check(split({0, 1}, 2, "dpdk", "auto") is None, "no CPU to spare: not pinned")
    wt.check(split({0}, 1, "dpdk", "auto") is None, "one CPU: not pinned")
    wt.check(split({0, 1}, 1, "uring", "on") == ([0], [1]), "on pins io_uring runs too")
    wt.check(split({0, 1}, 1, "dpdk", "off") is None, "off")
    try:
        split({0, 1}, 2, "dpdk", "on")
        wt.check(False, "--pin on without a CPU for pktgen must fail")
    except scenario.RunnerError as e:
        wt.check("leave none for pktgen" in str(e), f"message: {e}")
    wt.check(scenario.taskset_prefix([0, 2]) == ["taskset", "-c", "0,2"], "taskset prefix")
    wt.check(scenario.taskset_prefix(None) == [], "no prefix unpinned")


def run(_weir_exe, _pktgen_exe):
    for test in (test_within_limits, test_doubling_then_bisection, test_latency_limit_and_precision,
                 test_first_run_bad_searches_below_start, test_bounds, test_failed_run_counts_as_bad,
                 test_capacity_line, test_scenario_files_and_overrides, test_svg_plot,
                 test_plot_command, test_cpu_split):
        wt.log(test.__name__)
        test()


if __name__ == "__main__":
    wt.main(run)
