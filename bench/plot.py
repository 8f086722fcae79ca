#!/usr/bin/env python3
"""Replots saved result lines: bench/plot.py lines.jsonl [more.jsonl ...] -o out.svg

Reads JSON result lines (one object a line, as the scenarios print them; other lines are
skipped) and writes the plot of bench/svgplot.py: cost per forwarded packet (ns and as a
multiple of protect_ns) and p99 latency against N, from the fanout and capacity lines."""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402


def read_lines(paths):
    lines = []
    for path in paths:
        with (sys.stdin if path == "-" else open(path)) as f:
            for text in f:
                text = text.strip()
                if not text.startswith("{"):
                    continue
                try:
                    lines.append(json.loads(text))
                except ValueError:
                    print(f"plot.py: {path}: skipping a line that is not JSON", file=sys.stderr)
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="files of JSON lines ('-': stdin)")
    p.add_argument("-o", "--output", required=True, help="SVG file to write")
    p.add_argument("--title", help="plot title")
    opts = p.parse_args()
    try:
        svgplot.write(opts.output, read_lines(opts.inputs), opts.title)
    except (OSError, ValueError) as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
