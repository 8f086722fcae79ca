"""The plot of docs/benchmarks.md, hand-written SVG (python3 standard library only).

From the fanout lines of a run (a capacity search's included) it draws two panels over
the consumer count N: the server's CPU per forwarded packet (cpu_ns_per_fwd, left axis)
and that cost as a multiple of one SRTP protect (right axis), and the p99 one-way
latency; one series per (mode, suite). A capacity line adds a marker at its N, and its
latency limit is drawn on the latency panel.
"""

import math
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 880, 680
MARGIN_LEFT, MARGIN_RIGHT = 90, 90
LEGEND_TOP = 48
PANEL_TOP = (100, 410)  # y of each panel's top edge
PANEL_HEIGHT = 220
# Labels drawn over the data keep a white outline, so that lines do not cross them.
HALO = ' paint-order="stroke" stroke="white" stroke-width="3"'
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def nice_ticks(lo, hi, count=5):
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def log_ticks(lo, hi):
    """1, 2, 5 x 10^k from the largest one at or below lo to the smallest at or above hi
    (lo >= 1)."""
    values = []
    k = max(0, math.floor(math.log10(lo)))
    while True:
        for m in (1, 2, 5):
            v = m * 10 ** k
            values.append(v)
            if v >= hi:
                start = max([i for i, t in enumerate(values) if t <= lo] or [0])
                return values[start:]
        k += 1


def fmt(v):
    """A tick label: integers without a point, large values with k."""
    if v >= 10000 and v % 1000 == 0:
        return f"{int(v // 1000)}k"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:g}"


class Axis:
    """Maps a value range onto pixels; linear, or log10 when log is set."""

    def __init__(self, lo, hi, p0, p1, log=False):
        self.log = log
        self.lo, self.hi, self.p0, self.p1 = lo, hi, p0, p1

    def _t(self, v):
        return math.log10(v) if self.log else v

    def __call__(self, v):
        a, b = self._t(self.lo), self._t(self.hi)
        if b == a:
            return (self.p0 + self.p1) / 2
        return self.p0 + (self._t(v) - a) / (b - a) * (self.p1 - self.p0)


def _series(lines):
    """{(mode, suite): [(n, cpu_ns_per_fwd, ratio, p99_ms)]} from fanout lines, one point per
    N (the median of repeated runs), sorted by N."""
    groups = {}
    for line in lines:
        if line.get("scenario") != "fanout" or not line.get("consumers"):
            continue
        key = (line.get("mode", "?"), line.get("suite", "?"))
        groups.setdefault(key, {}).setdefault(line["consumers"], []).append(line)
    out = {}
    for key, by_n in groups.items():
        points = []
        for n in sorted(by_n):
            runs = by_n[n]
            cost = _median([r["cpu_ns_per_fwd"] for r in runs if r.get("cpu_ns_per_fwd")])
            ratio = _median([r["cpu_ns_per_fwd"] / r["protect_ns"] for r in runs
                             if r.get("cpu_ns_per_fwd") and r.get("protect_ns")])
            p99 = _median([r["latency_us"]["p99"] / 1000.0 for r in runs
                           if isinstance(r.get("latency_us"), dict) and "p99" in r["latency_us"]])
            points.append((n, cost, ratio, p99))
        out[key] = points
    return out


def _median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def render(lines, title="weir: cost per forwarded packet and p99 latency against N"):
    """The SVG document (a str) for these result lines (dicts). Raises ValueError when no
    fanout line has a consumer count."""
    series = _series(lines)
    if not series:
        raise ValueError("no fanout result lines to plot")
    captures = [l for l in lines if l.get("scenario") == "capacity"]
    ns = [p[0] for pts in series.values() for p in pts]
    ns += [c["consumers"] for c in captures if c.get("consumers")]
    n_lo, n_hi = min(ns), max(ns)
    use_log = n_hi / n_lo >= 8
    if use_log:
        xticks = log_ticks(n_lo, n_hi)
        x_lo, x_hi = xticks[0], xticks[-1]
    else:
        xticks = nice_ticks(0, n_hi)
        x_lo, x_hi = 0, xticks[-1]
    x = Axis(x_lo, x_hi, MARGIN_LEFT, WIDTH - MARGIN_RIGHT, log=use_log)

    costs = [p[1] for pts in series.values() for p in pts if p[1] is not None]
    ratios = [p[2] for pts in series.values() for p in pts if p[2] is not None]
    p99s = [p[3] for pts in series.values() for p in pts if p[3] is not None]
    limits = [c["limits"]["latency_p99_us"] / 1000.0 for c in captures
              if isinstance(c.get("limits"), dict) and c["limits"].get("latency_p99_us")]
    cost_ticks = nice_ticks(0, max(costs) if costs else 1)
    ratio_ticks = nice_ticks(0, max(ratios) if ratios else 1)
    lat_ticks = nice_ticks(0, max(p99s + limits) if p99s + limits else 1)

    top0, top1 = PANEL_TOP
    y_cost = Axis(0, cost_ticks[-1], top0 + PANEL_HEIGHT, top0)
    y_ratio = Axis(0, ratio_ticks[-1], top0 + PANEL_HEIGHT, top0)
    y_lat = Axis(0, lat_ticks[-1], top1 + PANEL_HEIGHT, top1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="28" text-anchor="middle" font-size="16">{escape(title)}</text>']

    def frame(top, yticks, yaxis, left_label, right=None):
        bottom = top + PANEL_HEIGHT
        left, right_x = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        for t in yticks:
            y = yaxis(t)
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right_x}" y2="{y:.1f}" '
                       f'stroke="#e0e0e0"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(t)}</text>')
        for t in xticks:
            px = x(t)
            out.append(f'<line x1="{px:.1f}" y1="{bottom}" x2="{px:.1f}" y2="{bottom + 5}" '
                       f'stroke="black"/>')
            out.append(f'<text x="{px:.1f}" y="{bottom + 18}" text-anchor="middle">{fmt(t)}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{right_x - left}" height="{PANEL_HEIGHT}" '
                   f'fill="none" stroke="black"/>')
        cy = top + PANEL_HEIGHT / 2
        out.append(f'<text x="22" y="{cy}" text-anchor="middle" '
                   f'transform="rotate(-90 22 {cy})">{escape(left_label)}</text>')
        if right:
            rticks, raxis, rlabel = right
            for t in rticks:
                y = raxis(t)
                out.append(f'<line x1="{right_x}" y1="{y:.1f}" x2="{right_x + 5}" y2="{y:.1f}" '
                           f'stroke="black"/>')
                out.append(f'<text x="{right_x + 8}" y="{y + 4:.1f}">{fmt(t)}</text>')
            rx = WIDTH - 20
            out.append(f'<text x="{rx}" y="{cy}" text-anchor="middle" '
                       f'transform="rotate(90 {rx} {cy})">{escape(rlabel)}</text>')
        out.append(f'<text x="{(left + right_x) / 2}" y="{bottom + 36}" text-anchor="middle">'
                   f'consumers N{" (log scale)" if use_log else ""}</text>')

    frame(top0, cost_ticks, y_cost, "server CPU per forwarded packet (ns)",
          (ratio_ticks, y_ratio, "multiple of one SRTP protect (dashed)"))
    frame(top1, lat_ticks, y_lat, "p99 one-way latency (ms)")

    def polyline(points, yaxis, color, dashed=False, marker="circle"):
        pts = [(x(n), yaxis(v)) for n, v in points if v is not None]
        if not pts:
            return
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for px, py in pts:
            if marker == "circle":
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{color}"/>')
            else:
                out.append(f'<rect x="{px - 3.5:.1f}" y="{py - 3.5:.1f}" width="7" height="7" '
                           f'fill="white" stroke="{color}" stroke-width="1.5"/>')

    legend = []
    for i, (key, points) in enumerate(sorted(series.items())):
        color = COLORS[i % len(COLORS)]
        polyline([(p[0], p[1]) for p in points], y_cost, color)
        polyline([(p[0], p[2]) for p in points], y_ratio, color, dashed=True, marker="square")
        polyline([(p[0], p[3]) for p in points], y_lat, color)
        legend.append((color, f"{key[0]}, {key[1]}"))

    for limit in sorted(set(limits)):
        y = y_lat(limit)
        out.append(f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" '
                   f'y2="{y:.1f}" stroke="#888" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{WIDTH - MARGIN_RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end" '
                   f'fill="#555"{HALO}>limit {fmt(limit)} ms</text>')
    for c in captures:
        if not c.get("consumers"):
            continue
        px = x(c["consumers"])
        for top in PANEL_TOP:
            out.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{top + PANEL_HEIGHT}" '
                       f'stroke="#444" stroke-dasharray="5 3"/>')
        out.append(f'<text x="{px + 4:.1f}" y="{top0 + 14}" fill="#444"{HALO}>capacity '
                   f'{c["consumers"]}</text>')

    # Legend: one row (or more) between the title and the first panel.
    items = [(color, label, "") for color, label in legend]
    items += [("black", "ns per packet (left axis)", ""),
              ("black", "x protect_ns (right axis)", ' stroke-dasharray="6 4"')]
    lx, ly = MARGIN_LEFT, LEGEND_TOP
    for color, label, dash in items:
        width = 34 + 7 * len(label) + 18
        if lx + width > WIDTH - MARGIN_RIGHT and lx > MARGIN_LEFT:
            lx, ly = MARGIN_LEFT, ly + 18
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(label)}</text>')
        lx += width
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(path, lines, title=None):
    text = render(lines) if title is None else render(lines, title)
    with open(path, "w") as f:
        f.write(text)
