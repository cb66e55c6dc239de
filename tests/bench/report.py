#!/usr/bin/env python3
"""Prints the rt-vs-baseline table from the JSON lines of the benchmark programs.

Usage: report.py RESULTS.jsonl [--markdown]

Each line is one program's output, {"bench": ..., "impl": "rt"|"asio"|"threads", <metric>: number,
...}, or {"bench": ..., "impl": ..., "error": "..."} when the program failed. The runtime-core
programs compare rt with Boost.Asio ("asio"), the channel and lock programs with plain threads
("threads"). The table has one row per metric: benchmark | metric | rt | baseline | rt/base |
better | verdict, where the benchmark label names the baseline, "better" says whether a higher or
a lower value is better and the verdict names the faster/leaner side (within 5%: "~"). When a
program ran several times (run.sh --repeat), each metric is the median of its runs.
Benchmarks named overhead_* compare rt with itself, introspection recording "on" versus "off"
(bench_overhead_rt); they get a table of their own: benchmark | metric | on | off | on/off | ...
Exit status 1 when some program failed or a result is missing.
"""

import json
import statistics
import sys

# Metrics per benchmark in display order: (key, unit, better).
METRICS = {
    "sleepers": [
        ("wall_s", "s", "lower"),
        ("spawn_s", "s", "lower"),
        ("cpu_s", "s", "lower"),
        ("late_p50_ms", "ms", "lower"),
        ("late_p99_ms", "ms", "lower"),
        ("late_max_ms", "ms", "lower"),
        ("rss_per_task_b", "B", "lower"),
        ("peak_rss_mb", "MiB", "lower"),
    ],
    "spawn": [
        ("tasks_per_s", "/s", "higher"),
        ("batch_p50_us", "us", "lower"),
        ("batch_p99_us", "us", "lower"),
        ("wall_s", "s", "lower"),
        ("cpu_s", "s", "lower"),
        ("peak_rss_mb", "MiB", "lower"),
    ],
    "yield": [
        ("yields_per_s", "/s", "higher"),
        ("wall_s", "s", "lower"),
        ("cpu_s", "s", "lower"),
        ("peak_rss_mb", "MiB", "lower"),
    ],
    "pingpong": [
        ("rounds_per_s", "/s", "higher"),
        ("round_p50_ns", "ns", "lower"),
        ("round_p99_ns", "ns", "lower"),
        ("wall_s", "s", "lower"),
        ("cpu_s", "s", "lower"),
        ("peak_rss_mb", "MiB", "lower"),
    ],
    "join_chain": [
        ("hops_per_s", "/s", "higher"),
        ("hop_p50_ns", "ns", "lower"),
        ("hop_p99_ns", "ns", "lower"),
        ("wall_s", "s", "lower"),
        ("cpu_s", "s", "lower"),
        ("peak_rss_mb", "MiB", "lower"),
    ],
}
# TCP echo and its variants (echo_uring: rt on io_uring; echo_large*: 64 KiB messages). The
# reactor latency (an I/O event's wake to the woken task's poll) is rt's own histogram: the
# baseline has no such figure and shows n/a.
ECHO_METRICS = [
    ("requests_per_s", "/s", "higher"),
    ("mb_per_s", "MB/s", "higher"),
    ("rtt_p50_us", "us", "lower"),
    ("rtt_p99_us", "us", "lower"),
    ("reactor_p50_us", "us", "lower"),
    ("reactor_p99_us", "us", "lower"),
    ("wall_s", "s", "lower"),
    ("cpu_s", "s", "lower"),
    ("peak_rss_mb", "MiB", "lower"),
]
METRICS["echo"] = ECHO_METRICS
RT_ONLY = {"reactor_p50_us", "reactor_p99_us"}
# Benchmarks named by shape (mpsc_4to1, mpmc_4to4): metrics by name prefix.
CHANNEL_METRICS = [
    ("msgs_per_s", "/s", "higher"),
    ("wall_s", "s", "lower"),
    ("cpu_s", "s", "lower"),
    ("peak_rss_mb", "MiB", "lower"),
]
PREFIX_METRICS = {"mpsc_": CHANNEL_METRICS, "mpmc_": CHANNEL_METRICS, "echo_": ECHO_METRICS}
METRICS["mutex"] = [
    ("locks_per_s", "/s", "higher"),
    ("wall_s", "s", "lower"),
    ("cpu_s", "s", "lower"),
    ("peak_rss_mb", "MiB", "lower"),
]
# Keys that describe the configuration rather than measure it.
PARAMS = ["n", "batch", "tasks", "k", "m", "depth", "producers", "consumers", "capacity",
          "threads", "conns", "size", "requests", "uring"]
# The implementation each benchmark is compared with (asio for the runtime core and echo).
ASIO_BENCHES = {"sleepers", "spawn", "yield", "pingpong", "join_chain", "echo", "echo_uring",
                "echo_large", "echo_large_uring"}
TOLERANCE = 0.05


def baseline_of(bench, impls_seen):
    """The baseline implementation of a benchmark: what its lines say, else its family's."""
    others = [i for i in impls_seen if i != "rt"]
    if others:
        return others[0]
    return "asio" if bench in ASIO_BENCHES else "threads"


def fmt(value, unit):
    if value is None:
        return "-"
    if not unit:
        return f"{value:.4g}"
    if unit == "/s":
        for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:.3f}{suffix}/s"
        return f"{value:.1f}/s"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:.4g} {unit}"


def metrics_of(bench, runs):
    if bench in METRICS:
        return METRICS[bench]
    for prefix, metrics in PREFIX_METRICS.items():
        if bench.startswith(prefix):
            return metrics
    keys = []
    for run in runs.values():
        for key, value in run.items():
            numeric = isinstance(value, (int, float))
            if key in PARAMS or key in keys or key.startswith("_") or not numeric:
                continue
            keys.append(key)
    return [(k, "", "higher" if k.endswith("_per_s") else "lower") for k in keys]


def median_record(recs):
    """One record whose numeric fields are the medians over `recs` (repeated runs)."""
    out = dict(recs[0])
    for key, value in recs[0].items():
        if isinstance(value, (int, float)) and key not in PARAMS:
            out[key] = statistics.median(r[key] for r in recs if key in r)
    out["_runs"] = len(recs)
    return out


def verdict(a, b, better, names):
    if a is None or b is None or a <= 0 or b <= 0:
        return ""
    gain = a / b if better == "higher" else b / a
    if abs(gain - 1) <= TOLERANCE:
        return "~"
    if gain > 1:
        return f"{names[0]} {gain:.2f}x better"
    return f"{names[1]} {1 / gain:.2f}x better"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    markdown = "--markdown" in argv[2:]
    results = {}  # bench -> impl -> record
    order = []
    with open(argv[1], encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{argv[1]}:{lineno}: not JSON ({e}): {line[:120]}", file=sys.stderr)
                continue
            bench, impl = rec.get("bench"), rec.get("impl")
            if bench not in results:
                results[bench] = {}
                order.append(bench)
            results[bench].setdefault(impl, []).append(rec)

    problems = []
    tables = {}  # "base" (rt against its baseline) or "on/off" (recording) -> rows
    for bench in order:
        runs = {}
        overhead = bench.startswith("overhead_")
        base_name = "off" if overhead else baseline_of(bench, results[bench].keys())
        names = ["on", "off"] if overhead else ["rt", base_name]
        rows = tables.setdefault("on/off" if overhead else "base", [])
        for impl in names:
            recs = results[bench].get(impl, [])
            if not recs:
                problems.append(f"{bench}/{impl}: no result")
            for r in recs:
                if "error" in r:
                    problems.append(f"{bench}/{impl}: {r['error']}")
            good = [r for r in recs if "error" not in r]
            if good:
                runs[impl] = median_record(good)
        ok = runs
        params = {}
        for impl, r in ok.items():
            for p in PARAMS:
                if p in r:
                    if p in params and params[p] != r[p]:
                        problems.append(f"{bench}: {p} differs between implementations")
                    params[p] = r[p]
        repeats = max((r.get("_runs", 1) for r in ok.values()), default=1)
        if repeats > 1:
            params["runs"] = repeats
        label = bench + ("" if overhead else " vs " + base_name) + (
            " (" + " ".join(f"{p}={v}" for p, v in params.items()) + ")" if params else "")
        for key, unit, better in metrics_of(bench, ok):
            a = ok.get(names[0], {}).get(key)
            b = ok.get(names[1], {}).get(key)
            if a is None and b is None:
                continue
            ratio = f"{a / b:.3f}" if a is not None and b else "-"
            b_text = "n/a" if b is None and key in RT_ONLY else fmt(b, unit)
            rows.append([label, key, fmt(a, unit), b_text, ratio, better,
                         verdict(a, b, better, names)])
            label = ""

    first = True
    for kind, rows in tables.items():
        if not rows:
            continue
        if not first:
            print()
        first = False
        if kind == "base":
            header = ["benchmark", "metric", "rt", "baseline", "rt/base", "better", "verdict"]
        else:
            header = ["benchmark", "metric", "on", "off", "on/off", "better", "verdict"]
        print_table(header, rows, markdown)
    print()
    print("rt/base: ratio of the raw values; 'better' says which direction wins for that metric.")
    if "on/off" in tables:
        print("on/off: introspection recording on versus off, same program (target: on/off "
              "within 5%).")
    print("peak_rss_mb is per program (each benchmark is its own process per implementation).")
    if any(row[1] in RT_ONLY for row in tables.get("base", [])):
        print("reactor_p50_us/p99_us: rt's I/O event wake to the woken task's poll (its "
              "introspection histogram); n/a for the baseline.")
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


def print_table(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
        right = {2, 3, 4}
        def line(cells):
            return " | ".join(c.rjust(w) if i in right else c.ljust(w)
                              for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        print(line(header))
        print("-+-".join("-" * w for w in widths))
        for row in rows:
            print(line(row))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
