#!/usr/bin/python3
"""report.py -- plots and a markdown report from one `mmshare bench --json` file.

usage: report.py RESULTS.json OUTDIR

Writes throughput_vs_procs.png, latency.png, fairness.png, throughput_vs_size.png, tpl_cost.png
and report.md into OUTDIR. Exit status: 0 written, 2 unusable input or OUTDIR not writable.
"""

import json
import math
import os
import statistics
import sys

SCHEMA = "mmshare-bench/1"
PNGS = ("throughput_vs_procs.png", "latency.png", "fairness.png", "throughput_vs_size.png",
        "tpl_cost.png")
KNOWN = ("mutex", "fcntl", "seqlock", "memfd")
CONTROLS = {"none": "no lock at all: values tear and updates are lost",
            "stale": "whole values, but some gets return the previous one"}
COLORS = {"mutex": "#1f77b4", "fcntl": "#ff7f0e", "seqlock": "#2ca02c", "memfd": "#d62728",
          "bare-mutex": "#7f7f7f", "bare-seqlock": "#404040"}
MARKERS = {"mutex": "o", "fcntl": "s", "seqlock": "^", "memfd": "D"}
PCTS = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"))
PCT_COLORS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")

# What the numbers cannot show: how each backend behaves when a process dies, and its costs.
CRASH_STORY = {
    "mutex": "robust process-shared pthread mutex: a holder that dies is detected by the next "
             "locker (EOWNERDEAD) and the area is repaired; exclusive for readers and writers",
    "fcntl": "POSIX record locks: the kernel drops a dead process's locks by itself and readers "
             "share a lock, but every operation is a system call",
    "seqlock": "readers never block and never write shared memory, retrying when a writer "
               "overtakes them; writers take a robust mutex; a steady stream of writes can starve "
               "a slow reader's retries",
    "memfd": "a sealed memfd that a process that is not a descendant can attach (mms_fd / "
             "mms_attach): seqlock readers, writers under an OFD lock held by the kernel, and no "
             "pointers in shared memory, so it is the one to give untrusted peers",
}


class Unusable(Exception):
    """The results file cannot be reported on; the message says why."""


# ---- reading and checking ----

def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def need(r, i, key, kind, default=None, required=True):
    """Field key of results[i], checked: kind is 'str', 'int', 'num', 'bool' or 'dict'."""
    if key not in r or r[key] is None:
        if required:
            raise Unusable(f"results[{i}]: no \"{key}\"")
        return default
    v = r[key]
    ok = {"str": isinstance(v, str),
          "int": isinstance(v, int) and not isinstance(v, bool) and v >= 0,
          "num": is_num(v) and v >= 0,
          "bool": isinstance(v, bool),
          "dict": isinstance(v, dict)}[kind]
    if not ok:
        want = {"str": "a string", "int": "a whole number >= 0", "num": "a number >= 0",
                "bool": "true or false", "dict": "an object"}[kind]
        raise Unusable(f"results[{i}].{key}: expected {want}, got {json.dumps(v)[:40]}")
    return v


def latency(r, i, op):
    """latency_ns.<op> as a dict of floats, or None when absent or empty."""
    lat = need(r, i, "latency_ns", "dict", {}, required=False).get(op)
    if lat is None:
        return None
    if not isinstance(lat, dict):
        raise Unusable(f"results[{i}].latency_ns.{op}: expected an object")
    out = {}
    for key in ("p50", "p90", "p99", "p999", "max", "count"):
        v = lat.get(key)
        if v is not None and not (is_num(v) and v >= 0):
            raise Unusable(f"results[{i}].latency_ns.{op}.{key}: expected a number >= 0")
        out[key] = float(v) if v is not None else None
    return out if out.get("count") else None


def run_of(r, i):
    """One result, checked and reduced to what the report uses."""
    if not isinstance(r, dict):
        raise Unusable(f"results[{i}]: expected an object")
    mode = need(r, i, "mode", "str")
    if mode not in ("raw", "tpl"):
        raise Unusable(f"results[{i}].mode: expected \"raw\" or \"tpl\", got {json.dumps(mode)}")
    errors = need(r, i, "errors", "dict", {}, required=False)
    if not all(is_num(v) for v in errors.values()):
        raise Unusable(f"results[{i}].errors: expected counts")
    return {
        "backend": need(r, i, "backend", "str"), "mode": mode,
        "procs": need(r, i, "procs", "int"), "write_ratio": need(r, i, "write_ratio", "int"),
        "size": need(r, i, "size", "int"), "rmw": need(r, i, "rmw", "int", 0, False),
        "ops_per_sec": float(need(r, i, "ops_per_sec", "num")),
        "jain": need(r, i, "fairness_jain", "num", None, False),
        "get": latency(r, i, "get"), "set": latency(r, i, "set"),
        "contended": need(r, i, "contended", "bool", None, False),
        "overlap": need(r, i, "overlap", "num", None, False),
        "checked": need(r, i, "checked", "bool", False, False),
        "torn": need(r, i, "torn", "int", 0, False),
        "violations": need(r, i, "violations", "int", 0, False),
        "lost_updates": need(r, i, "lost_updates", "int", 0, False),
        "kills": need(r, i, "kills", "int", 0, False),
        "recovery_ms_max": need(r, i, "recovery_ms_max", "num", 0.0, False),
        "errors": int(sum(errors.values())),
        # Older files have no "timing": a run without --check and --kill was a timing run.
        "timing": need(r, i, "timing", "bool", None, False),
        "ci_lo": need(r, i, "ci95_low", "num", None, False),
        "ci_hi": need(r, i, "ci95_high", "num", None, False),
        "harness_ns": need(r, i, "harness_ns_per_op", "num", None, False),
        "vs_standalone": need(r, i, "vs_standalone", "num", None, False),
        "standalone": need(r, i, "standalone_ops_per_sec", "num", None, False),
    }


def load(path):
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8-sig"))
    except OSError as e:
        raise Unusable(f"cannot read: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise Unusable(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise Unusable("expected a JSON object at the top")
    if doc.get("schema") != SCHEMA:
        raise Unusable(f"unknown schema {json.dumps(doc.get('schema'))} (expected \"{SCHEMA}\")")
    results = doc.get("results")
    if not isinstance(results, list):
        raise Unusable("\"results\" is missing or not an array")
    if not results:
        raise Unusable("no results")
    machine = doc.get("machine") if isinstance(doc.get("machine"), dict) else {}
    commands = doc.get("commands")
    if not (isinstance(commands, list) and commands and all(isinstance(c, str) for c in commands)):
        commands = [doc["command"] if isinstance(doc.get("command"), str) else "(not recorded)"]
    runs = [run_of(r, i) for i, r in enumerate(results)]
    for r in runs:
        if r["timing"] is None:
            r["timing"] = not r["checked"] and not r["kills"]
    if not any(r["timing"] for r in runs):
        raise Unusable("no timing runs: every run is checked (--check or --kill), and a checked "
                       "run's throughput is the checker's; rank from runs without them")
    return machine, "\n".join(commands), runs


def load_peers(path):
    """peers.json (bench/peers.pl) when it is there and usable; None otherwise."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    ok = (isinstance(doc, dict) and doc.get("schema") == "mmshare-peers/1" and
          isinstance(doc.get("results"), list) and doc["results"] and
          all(isinstance(p, dict) and isinstance(p.get("peer"), str) and
              isinstance(p.get("procs"), int) and isinstance(p.get("write_ratio"), int) and
              is_num(p.get("ops_per_sec")) for p in doc["results"]))
    if not ok:
        print(f"report.py: {path}: not an mmshare-peers/1 file; no peer table", file=sys.stderr)
        return None
    return doc


# ---- grouping ----

def backend_order(names):
    rest = sorted(n for n in names if n not in KNOWN)
    return [n for n in KNOWN if n in names] + rest


class Point:
    """The repeats of one backend in one scenario: timing runs only."""

    def __init__(self, runs):
        self.runs = runs
        ops = [r["ops_per_sec"] for r in runs]
        self.mean = statistics.fmean(ops)
        # The interval: lowest 95% low to highest 95% high over the repeats (their spread where
        # a run has no interval), so drift between the rounds of the grid widens it.
        self.lo = min(r["ci_lo"] if r["ci_lo"] is not None else r["ops_per_sec"] for r in runs)
        self.hi = max(r["ci_hi"] if r["ci_hi"] is not None else r["ops_per_sec"] for r in runs)
        self.half = (self.hi - self.lo) / 2
        self.has_interval = len(runs) > 1 or any(r["ci_lo"] is not None for r in runs)
        jains = [r["jain"] for r in runs if r["jain"] is not None]
        self.jain = statistics.fmean(jains) if jains else None
        self.uncontended = sum(1 for r in runs if r["procs"] > 1 and
                               (r["contended"] is False or
                                (r["overlap"] is not None and r["overlap"] < 0.9)))

    def overlaps(self, other):
        """Tied: the two intervals overlap."""
        return self.lo <= other.hi and other.lo <= self.hi

    def lat(self, op, pct):
        vals = [r[op][pct] for r in self.runs if r[op] and r[op].get(pct) is not None]
        return statistics.fmean(vals) if vals else None


class Data:
    def __init__(self, machine, command, runs):
        self.machine, self.command, self.runs = machine, command, runs
        self.peers = None
        self.checked_runs = [r for r in runs if not r["timing"]]
        runs = [r for r in runs if r["timing"]]
        self.timing_runs = runs
        self.points = {}
        for r in runs:
            key = (r["mode"], r["size"], r["write_ratio"], r["procs"], r["rmw"], r["backend"])
            self.points.setdefault(key, []).append(r)
        self.points = {k: Point(v) for k, v in self.points.items()}
        names = {r["backend"] for r in runs}
        self.backends = backend_order(names)                     # every one, controls too
        self.all_backends = backend_order({r["backend"] for r in self.runs})
        self.measured = [b for b in self.backends if b not in CONTROLS]
        self.rmws = sorted({r["rmw"] for r in runs})
        # The plots and the advice use the main sweep: the rmw share most runs have (a crash run
        # with its own rmw, merged in, gets its own tables only).
        self.rmw = max(self.rmws, key=lambda m: sum(r["rmw"] == m for r in runs))
        main = [r for r in runs if r["rmw"] == self.rmw]
        self.sizes = sorted({r["size"] for r in main})
        self.writes = sorted({r["write_ratio"] for r in main})
        self.procs = sorted({r["procs"] for r in main})
        self.modes = [m for m in ("raw", "tpl") if any(r["mode"] == m for r in main)]
        cpus = machine.get("cpus")
        self.cpus = cpus if isinstance(cpus, int) and cpus > 0 else None
        fitting = [p for p in self.procs if self.cpus and p <= self.cpus]
        self.ref_procs = max(fitting) if fitting else self.procs[0]
        self.ref_size = self.sizes[0]
        self.ref_mode = "raw" if "raw" in self.modes else self.modes[0]

    def get(self, mode, size, write, procs, backend, rmw=None):
        rmw = self.rmw if rmw is None else rmw
        return self.points.get((mode, size, write, procs, rmw, backend))

    def scenarios(self):
        """Every (mode, rmw, size, write, procs) with runs, main sweep first."""
        keys = {k[:5] for k in self.points}
        rank = {"raw": 0, "tpl": 1}
        return sorted(((m, rmw, size, w, p) for m, size, w, p, rmw in keys),
                      key=lambda k: (k[1] != self.rmw, rank.get(k[0], 2), k[1:]))


# ---- formatting ----

def size_text(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def rate_text(x):
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.3g}"


def ns_text(x):
    if x is None:
        return "–"
    for div, unit in ((1e6, "ms"), (1e3, "µs")):
        if x >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.0f} ns"


def scenario_title(mode, rmw, size, write, procs):
    extra = f", {rmw}% lock/get/set/unlock" if rmw else ""
    return f"{mode} · {size_text(size)} · {write}% writes · {procs} procs{extra}"


# ---- plots ----

def plt_setup():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise Unusable("matplotlib is needed: apt-get install python3-matplotlib") from None
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "figure.titlesize": 13,
                         "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 120})
    return plt


def panels(plt, n, title, height=4.2, rows=1, sharey=False):
    fig, axes = plt.subplots(rows, n, figsize=(max(5.2, 4.6 * n), height * rows), squeeze=False,
                             sharey=sharey)
    fig.suptitle(title)
    return fig, axes


def finish(plt, fig, axes, path, legend_cols):
    """One legend for the figure, below the panels where it hides no data, then save."""
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("CPUs"))
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    width, height = fig.get_size_inches()
    bottom = 0
    if handles:
        ncol = min(legend_cols, len(labels), max(2, int(width / 2.3)))
        rows = math.ceil(len(labels) / ncol)
        fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
        bottom = (0.15 + 0.3 * rows) / height
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def empty(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_axis_off()


def style(backend):
    if backend.startswith("bare-"):
        return {"color": COLORS.get(backend, "#999999"), "linestyle": "--", "marker": None,
                "label": f"{backend} (reference loop)"}
    return {"color": COLORS.get(backend), "linestyle": "-", "marker": MARKERS.get(backend, "o"),
            "label": backend}


def readable_log(ax):
    """A log y axis labelled 0.5, 1, 2, 5, 10 ... rather than powers of ten alone."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def log2_axis(ax, values, labels):
    ax.set_xscale("log", base=2)
    ax.set_xlim(values[0] / 1.35, values[-1] * 1.35)
    ax.set_xticks(values)
    ax.set_xticklabels(labels)
    ax.minorticks_off()


def plot_throughput_vs_procs(plt, d, path):
    mode, size = d.ref_mode, d.ref_size
    fig, axes = panels(plt, len(d.writes), f"Throughput vs worker processes — {mode} mode, "
                       f"{size_text(size)} values (mean of repeats; bars: min–max)")
    for ax, write in zip(axes[0], d.writes):
        for b in d.measured:
            pts = [(p, d.get(mode, size, write, p, b)) for p in d.procs]
            pts = [(p, pt) for p, pt in pts if pt]
            if not pts:
                continue
            xs = [p for p, _ in pts]
            ys = [pt.mean / 1e6 for _, pt in pts]
            err = [[(pt.mean - pt.lo) / 1e6 for _, pt in pts],
                   [(pt.hi - pt.mean) / 1e6 for _, pt in pts]]
            ax.errorbar(xs, ys, yerr=err, capsize=3, linewidth=1.8, **style(b))
        if d.cpus and d.procs[0] <= d.cpus <= d.procs[-1]:
            ax.axvline(d.cpus, color="#999999", linestyle=":", linewidth=1.2,
                       label=f"CPUs on this machine ({d.cpus})")
        log2_axis(ax, d.procs, [str(p) for p in d.procs])
        ax.set_ylim(bottom=0)
        ax.set_title(f"{write}% writes")
        ax.set_xlabel("worker processes")
        ax.set_ylabel("throughput (million ops/s)")
    finish(plt, fig, axes, path, 6)


def plot_throughput_vs_size(plt, d, path):
    mode, procs = d.ref_mode, d.ref_procs
    fig, axes = panels(plt, len(d.writes), f"Throughput vs value size — {mode} mode, {procs} "
                       f"worker processes (mean of repeats)")
    for ax, write in zip(axes[0], d.writes):
        positive = False
        for b in d.measured:
            pts = [(s, d.get(mode, s, write, procs, b)) for s in d.sizes]
            pts = [(s, pt) for s, pt in pts if pt]
            if pts:
                ax.plot([s for s, _ in pts], [pt.mean / 1e6 for _, pt in pts], linewidth=1.8,
                        **style(b))
                positive = positive or any(pt.mean > 0 for _, pt in pts)
        log2_axis(ax, d.sizes, [size_text(s) for s in d.sizes])
        if positive:
            readable_log(ax)
        ax.set_title(f"{write}% writes")
        ax.set_xlabel("value size (bytes, log scale)")
        ax.set_ylabel("throughput (million ops/s, log scale)")
    finish(plt, fig, axes, path, 6)


def grouped_bars(ax, groups, series, value, colors, labels, width=0.8):
    """Bars: one cluster per group, one bar per series; value(group, series) or None."""
    n = max(1, len(series))
    w = width / n
    for j, s in enumerate(series):
        xs, ys = [], []
        for i, g in enumerate(groups):
            v = value(g, s)
            if v is not None:
                xs.append(i - width / 2 + w * (j + 0.5))
                ys.append(v)
        ax.bar(xs, ys, w * 0.92, color=colors[j], label=labels[j])
    ax.set_xticks(range(len(groups)))


def plot_fairness(plt, d, path):
    mode, size = d.ref_mode, d.ref_size
    procs = [p for p in d.procs if p > 1] or d.procs     # one worker is trivially fair
    lib = [b for b in d.measured if not b.startswith("bare-")]
    fig, axes = panels(plt, len(d.writes), f"Fairness (Jain's index; 1.0 = every worker got the "
                       f"same share) — {mode} mode, {size_text(size)} values", sharey=True)

    def jain(write):
        def value(p, b):
            pt = d.get(mode, size, write, p, b)
            return pt.jain if pt and pt.jain is not None else None
        return value
    lows = [jain(w)(p, b) for w in d.writes for p in procs for b in lib]
    low = min([v for v in lows if v is not None] + [1.0])
    for ax, write in zip(axes[0], d.writes):
        grouped_bars(ax, procs, lib, jain(write), [COLORS.get(b, "#999999") for b in lib], lib)
        ax.set_xticklabels([str(p) for p in procs])
        ax.set_ylim(math.floor(max(0.0, low - 0.05) * 10) / 10, 1.02)
        ax.axhline(1.0, color="#999999", linewidth=0.8)
        ax.set_title(f"{write}% writes")
        ax.set_xlabel("worker processes")
        ax.set_ylabel("Jain's fairness index (0–1)")
    finish(plt, fig, axes, path, 6)


def plot_latency(plt, d, path):
    mode, size, procs = d.ref_mode, d.ref_size, d.ref_procs
    lib = [b for b in d.measured if not b.startswith("bare-")]
    title = (f"Latency percentiles — {mode} mode, {size_text(size)} values, {procs} worker "
             f"processes (log scale)")
    fig, axes = panels(plt, len(d.writes), title, height=3.6, rows=2)
    lats = {}
    for op in ("get", "set"):
        for w in d.writes:
            for b in lib:
                pt = d.get(mode, size, w, procs, b)
                for pct, _ in PCTS:
                    lats[op, w, b, pct] = pt.lat(op, pct) if pt else None
    seen = [v for v in lats.values() if v]
    for row, op in enumerate(("get", "set")):
        for ax, write in zip(axes[row], d.writes):
            ax.set_title(f"{op} · {write}% writes")
            if not any(lats[op, write, b, "p50"] for b in lib):
                empty(ax, f"no {op}s at {write}% writes")
                continue
            grouped_bars(ax, lib, [p for p, _ in PCTS], lambda b, p: lats[op, write, b, p],
                         PCT_COLORS, [lab for _, lab in PCTS])
            ax.set_xticklabels(lib)
            ax.set_yscale("log")
            ax.set_ylim(min(seen) / 2, max(seen) * 2)
            ax.set_ylabel(f"{op} latency (ns, log scale)")
    finish(plt, fig, axes, path, 4)


def plot_tpl_cost(plt, d, path):
    procs = d.ref_procs
    lib = [b for b in d.measured if not b.startswith("bare-")]
    if "tpl" not in d.modes or "raw" not in d.modes:
        fig, axes = panels(plt, 1, "Cost of tpl: tpl-mode throughput as a share of raw")
        empty(axes[0][0], "needs runs in both raw and tpl mode\n(mmshare bench --mode raw,tpl)")
        finish(plt, fig, axes, path, 6)
        return
    fig, axes = panels(plt, len(d.writes), f"Cost of tpl: tpl-mode throughput as a share of "
                       f"raw — {procs} worker processes (1.0 = no cost)")
    for ax, write in zip(axes[0], d.writes):
        def ratio(s, b):
            t, r = d.get("tpl", s, write, procs, b), d.get("raw", s, write, procs, b)
            return t.mean / r.mean if t and r and r.mean > 0 else None
        if not any(ratio(s, b) for s in d.sizes for b in lib):
            empty(ax, "needs runs in both raw and tpl mode\n(mmshare bench --mode raw,tpl)")
            ax.set_title(f"{write}% writes")
            continue
        grouped_bars(ax, d.sizes, lib, ratio, [COLORS.get(b, "#999999") for b in lib], lib)
        ax.set_xticklabels([size_text(s) for s in d.sizes])
        ax.axhline(1.0, color="#999999", linewidth=0.8)
        ax.set_ylim(0, 1.1)
        ax.set_title(f"{write}% writes")
        ax.set_xlabel("value size")
        ax.set_ylabel("tpl ops/s ÷ raw ops/s")
    finish(plt, fig, axes, path, 6)


# ---- report.md ----

def ranking(d, mode, rmw, size, write, procs):
    pts = [(b, d.get(mode, size, write, procs, b, rmw)) for b in d.measured]
    pts = [(b, pt) for b, pt in pts if pt]
    lib = [(b, pt) for b, pt in pts if not b.startswith("bare-")]
    best = max((pt.mean for _, pt in lib), default=0)
    return sorted(lib, key=lambda bp: -bp[1].mean), [bp for bp in pts if bp not in lib], best


def scenario_section(d, out):
    out.append("## Results by scenario\n")
    out.append("Backends ranked by throughput, from unchecked timing runs only (the checked runs "
               "of the same grid are under *Correctness*): the mean of the repeats and its 95% "
               "interval (lowest low to highest high of the repeats' intervals, each from the "
               "throughput of 20 ms slices of its run); *vs best* is the share of the fastest "
               "backend's throughput, and *tied* marks a backend whose interval overlaps the "
               "fastest one's; p99 latencies are means over the repeats (sampled: one operation "
               "per batch); fairness is Jain's index (1 = equal shares). The negative controls "
               "appear only under *Correctness*.\n")
    for mode, rmw, size, write, procs in d.scenarios():
        ranked, refs, best = ranking(d, mode, rmw, size, write, procs)
        if not ranked:
            continue
        out.append(f"### {scenario_title(mode, rmw, size, write, procs)}\n")
        out.append("| # | backend | ops/s | vs best | p99 get | p99 set | fairness |")
        out.append("|--:|---|--:|--:|--:|--:|--:|")
        notes = []
        for i, (b, pt) in enumerate(ranked, 1):
            spread = (f" [{rate_text(pt.lo)}–{rate_text(pt.hi)}]"
                      if pt.mean > 0 and pt.has_interval else "")
            jain = f"{pt.jain:.3f}" if pt.jain is not None else "–"
            vs = f"{pt.mean / best:.2f}" if best > 0 else "–"
            if i > 1 and pt.overlaps(ranked[0][1]):
                vs += " tied"
            get99, set99 = ns_text(pt.lat("get", "p99")), ns_text(pt.lat("set", "p99"))
            out.append(f"| {i} | {b} | {rate_text(pt.mean)}{spread} (n={len(pt.runs)}) | {vs} | "
                       f"{get99} | {set99} | {jain} |")
            if pt.uncontended:
                notes.append(f"{b}: {pt.uncontended} of {len(pt.runs)} runs not under contention")
            killed = sum(r["kills"] for r in pt.runs)
            if killed:
                notes.append(f"{b}: {killed} workers killed and replaced during these runs")
        for b, pt in refs:
            notes.append(f"reference loop {b}: {rate_text(pt.mean)} ops/s"
                         + (f" ({pt.mean / best:.2f}× the best backend)" if best > 0 else ""))
        out.append("")
        if notes:
            out.append("*" + "; ".join(notes) + ".*\n")


def totals(d, backend):
    runs = [r for r in d.checked_runs if r["backend"] == backend]
    return {"runs": len(runs), "checked": sum(r["checked"] for r in runs),
            "torn": sum(r["torn"] for r in runs), "violations": sum(r["violations"] for r in runs),
            "lost_updates": sum(r["lost_updates"] for r in runs),
            "errors": sum(r["errors"] for r in runs), "kills": sum(r["kills"] for r in runs),
            "recovery": max((r["recovery_ms_max"] for r in runs), default=0.0)}


def correctness_section(d, out):
    out.append("## Correctness and crashes\n")
    out.append("Summed over the checked and crash runs of each backend (`--check`, `--kill`; "
               "their throughput is the checker's and appears nowhere above); recovery is the "
               "longest time, over all runs, from killing a worker to the next operation that "
               "completed.\n")
    out.append("| backend | runs | checked | torn | violations | lost updates | errors | kills "
               "| recovery max |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    alarms, controls, unchecked = [], [], []
    for b in [x for x in d.all_backends if totals(d, x)["runs"]]:
        t = totals(d, b)
        name = f"{b} (negative control)" if b in CONTROLS else b
        out.append(f"| {name} | {t['runs']} | {t['checked']} | {t['torn']} | {t['violations']} | "
                   f"{t['lost_updates']} | {t['errors']} | {t['kills']} | "
                   f"{t['recovery']:.3f} ms |")
        bad = [f"{t[k]} {k.replace('_', ' ')}" for k in ("torn", "violations", "lost_updates")
               if t[k]]
        if b in CONTROLS:
            controls.append((b, bad, t))
        elif bad:
            alarms.append(f"> **FAILURE — {b}: {', '.join(bad)}.** This backend returned wrong "
                          f"values under test. Do not use it until this is explained.")
        if b not in CONTROLS and t["checked"] < t["runs"]:
            unchecked.append(f"{b} {t['runs'] - t['checked']} of {t['runs']}")
    out.append("")
    if unchecked:
        alarms.append(f"> **Runs not checked** (no --check): {', '.join(unchecked)}. Only torn "
                      f"values are caught without it; zero violations and lost updates there "
                      f"mean nothing was looked for.")
    if not any(a.startswith("> **FAILURE") for a in alarms):
        out.append("No torn value, linearizability violation or lost update in any run of a "
                   "real backend.\n")
    out.extend(a + "\n" for a in alarms)
    for b, bad, t in controls:
        if bad:
            out.append(f"> **{b} is broken, as intended: {', '.join(bad)}.** It is a negative "
                       f"control ({CONTROLS[b]}); that the checker caught it shows the zeros "
                       f"above are meaningful. Never use it.\n")
        else:
            out.append(f"> **{b} shows no failure although it is broken by design** "
                       f"({t['checked']} of {t['runs']} runs checked): the checker missed it in "
                       f"these runs, so the zeros above prove less than they seem. Never use it.\n")
    uncontended = [(k, pt) for k, pt in sorted(d.points.items()) if pt.uncontended and
                   k[5] not in CONTROLS]
    if uncontended:
        out.append("Points not measured under contention: *contended* false (the workers never "
                   "waited for one another, e.g. readers that share the lock) or *overlap* < 0.9 "
                   "(the workers were not all running at once for most of the window). Their "
                   "throughput is not a contended figure:\n")
        for (mode, size, write, procs, rmw, b), pt in uncontended:
            why = []
            for r in pt.runs:
                if r["overlap"] is not None and r["overlap"] < 0.9:
                    why.append(f"overlap {r['overlap']:.2f}")
                elif r["contended"] is False:
                    why.append("no waits")
            out.append(f"- {b}, {scenario_title(mode, rmw, size, write, procs)}: "
                       f"{pt.uncontended} of {len(pt.runs)} runs ({', '.join(why)})")
        out.append("")


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(statistics.fmean(math.log(x) for x in xs)) if xs else None


def family_of(write):
    if write <= 10:
        return "read-mostly (≤ 10% writes)"
    if write <= 50:
        return "mixed (11–50% writes)"
    return "write-heavy (> 50% writes)"


def family_stats(d, writes):
    """For each backend: geometric mean of its share of the best, wins; scenarios; spread."""
    share, wins, count, rsds = {}, {}, 0, []
    for mode, rmw, size, write, procs in d.scenarios():
        if mode != d.ref_mode or write not in writes or rmw != d.rmw:
            continue
        ranked, _, best = ranking(d, mode, rmw, size, write, procs)
        if not ranked or best <= 0:
            continue
        count += 1
        wins[ranked[0][0]] = wins.get(ranked[0][0], 0) + 1
        for b, pt in ranked:
            share.setdefault(b, []).append(pt.mean / best)
            if pt.has_interval and pt.mean > 0:
                rsds.append(pt.half / pt.mean)
    spread = statistics.median(rsds) if rsds else None
    return {b: geomean(v) for b, v in share.items()}, wins, count, spread


def margin_note(shares, order, spread):
    if len(order) < 2:
        return ""
    a, b = order[0], order[1]
    if spread is None:
        return (f"Single runs: nothing says whether {a}'s lead over {b} "
                f"({shares[a]:.2f} vs {shares[b]:.2f}) is more than noise.")
    if shares[a] - shares[b] < 2 * spread:
        return (f"{a}'s lead over {b} ({shares[a]:.2f} vs {shares[b]:.2f}) is within the typical "
                f"95% intervals of the two (± {100 * spread:.1f}% each): they overlap, so treat "
                f"them as tied here.")
    return ""


def pair_note(shares, spread):
    """seqlock and memfd read by one protocol; their writers lock differently."""
    if "seqlock" not in shares or "memfd" not in shares:
        return ""
    gap = shares["seqlock"] - shares["memfd"]
    if gap < max(0.1, 2 * (spread or 0)):
        return ""
    return (f"memfd reads like seqlock but its writers take an OFD lock, a system call each "
            f"way (share of the best: seqlock {shares['seqlock']:.2f}, memfd {shares['memfd']:.2f} here): the price of a lock "
            f"that no peer can corrupt.")


def choice_text(top, heavy, tied):
    if tied:
        return ("No backend is clearly fastest here, so choose by what the numbers do not show: "
                "**mutex** by default (simplest; a dead holder is repaired by the next locker), "
                "**seqlock** when readers must never block or write shared memory, **memfd** when "
                "a process that is not a descendant must attach, **fcntl** when the kernel itself "
                "should free a dead process's lock.")
    if top == "seqlock" and not heavy:
        return ("Choose **seqlock** for read-mostly loads: its readers never block or write "
                "shared memory, so reads scale with readers, and a reader that dies holds "
                "nothing; a writer that dies leaves the other slot whole for readers and the "
                "next writer finishes its job. What the throughput hides: readers retry when "
                "a writer overtakes them, and a reader descheduled mid-copy retries the whole "
                "value; watch the p99 get column as writes grow.")
    if top == "seqlock":
        return ("**seqlock** is still fastest here, but with this many writes its readers "
                "retry often and a writer-heavy burst can starve a slow reader indefinitely, "
                "which a mean over a second does not show; prefer **mutex** when readers "
                "must make progress, seqlock when writers must never wait for readers.")
    if top == "mutex":
        return ("Choose **mutex**: simplest, exclusive, and a dead holder is repaired by the "
                "next locker; take **memfd** when a process that is not a descendant must "
                "attach or peers are not trusted.")
    if top == "memfd":
        return ("**memfd** is fastest here: seqlock's lock-free readers with a kernel-held "
                "writer lock; it is also the one backend safe with untrusted peers.")
    return (f"**{top}** is fastest in these runs; check that the margin exceeds the spread of "
            f"the repeats before relying on it.")


def family_advice(d, name, writes):
    shares, wins, count, spread = family_stats(d, writes)
    if not shares:
        return []
    order = sorted(shares, key=lambda b: -(shares[b] or 0))
    top = order[0]
    line = ", ".join(f"{b} {shares[b]:.2f}" for b in order)
    margin = margin_note(shares, order, spread)
    text = [f"**{name}** — {count} scenario(s), {d.ref_mode} mode. Typical share of the best "
            f"(geometric mean): {line}. Fastest most often: {max(wins, key=wins.get)} "
            f"({max(wins.values())} of {count}).", margin,
            choice_text(top, min(writes) > 10, "tied" in margin), pair_note(shares, spread)]
    if "fcntl" in shares and top != "fcntl":
        text.append(f"fcntl reaches {shares['fcntl']:.2f} of the best: every operation is a "
                    f"system call. Its advantage is not speed: the kernel itself frees a dead "
                    f"process's lock, and readers share one.")
    return [" ".join(t for t in text if t), ""]


def shares_at(d, sizes):
    """Geometric mean share of the best per backend over the reference-mode scenarios of sizes."""
    share = {}
    for mode, rmw, size, write, procs in d.scenarios():
        if mode != d.ref_mode or size not in sizes or rmw != d.rmw:
            continue
        ranked, _, best = ranking(d, mode, rmw, size, write, procs)
        for b, pt in ranked:
            if best > 0:
                share.setdefault(b, []).append(pt.mean / best)
    return {b: geomean(v) for b, v in share.items()}


def size_advice(d):
    if len(d.sizes) < 2:
        return []
    small, large = shares_at(d, d.sizes[:1]), shares_at(d, d.sizes[-1:])
    both = [b for b in small if b in large]
    if not both:
        return []
    text = "; ".join(f"{b} {small[b]:.2f} → {large[b]:.2f}" for b in both)
    spread_small = max(small[b] for b in both) - min(small[b] for b in both)
    spread_large = max(large[b] for b in both) - min(large[b] for b in both)
    trend = ("the backends draw closer as the copy and its checksum take over" if
             spread_large < spread_small else "the gaps between backends do not shrink")
    lead_small, lead_large = max(both, key=small.get), max(both, key=large.get)
    if lead_small != lead_large:
        trend += (f"; the lead changes hands, {lead_small} with small values, {lead_large} with "
                  f"large ones")
    return [f"**Value size** ({size_text(d.sizes[0])} → {size_text(d.sizes[-1])}, share of the "
            f"best): {text}. {trend.capitalize()}. seqlock readers copy optimistically and may "
            f"copy a large value more than once when overtaken. See throughput_vs_size.png.\n"]


def tpl_advice(d):
    if "tpl" not in d.modes or "raw" not in d.modes:
        return []
    ratios = {}
    for (mode, size, write, procs, rmw, b), pt in d.points.items():
        raw = d.get("raw", size, write, procs, b, rmw)
        if mode == "tpl" and raw and raw.mean > 0 and b in d.measured:
            ratios.setdefault(b, []).append(pt.mean / raw.mean)
    if not ratios:
        return []
    text = ", ".join(f"{b} {statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})"
                     for b, v in ratios.items())
    return [f"**tpl mode** keeps this share of raw throughput, median (range): {text}. "
            f"Serialization runs outside the lock at a fixed cost per operation: the faster the "
            f"backend, the larger the share it loses. See tpl_cost.png.\n"]


def advice_section(d, out):
    out.append("## Recommendations\n")
    fams = {}
    for w in d.writes:
        fams.setdefault(family_of(w), []).append(w)
    for name, writes in fams.items():
        out.extend(family_advice(d, name, writes))
    out.extend(size_advice(d))
    out.extend(tpl_advice(d))
    kills = sum(r["kills"] for r in d.runs if r["backend"] in d.measured)
    crash = (f"These runs killed {kills} workers mid-run; the correctness table has the longest "
             f"recovery of each backend." if kills else "These runs killed no worker (no --kill), "
             "so nothing here measures what happens when a process dies.")
    out.append(f"**What these numbers do not show.** {crash} Each backend's story when a process "
               f"dies:\n")
    for b in [x for x in KNOWN if x in d.measured]:
        out.append(f"- **{b}**: {CRASH_STORY[b]}.")
    cpus = f"{d.cpus} CPU(s)" if d.cpus else "an unknown number of CPUs"
    controls = [b for b in d.all_backends if b in CONTROLS]
    never = ""
    if controls:
        many = len(controls) > 1
        what = "are negative controls" if many else "is a negative control"
        never = (f" {' and '.join(controls)} {what}, broken on purpose: never use "
                 f"{'them' if many else 'it'}.")
    out.append(f"\nThese runs come from one machine with {cpus}; points with more worker "
               f"processes than CPUs measure the scheduler as much as the lock, and differences "
               f"smaller than the spread of the repeats are noise.{never}\n")


def machine_section(d, out):
    m = d.machine
    out.append("# mmshare benchmark report\n")
    out.append("## Machine\n")
    out.append("| | |\n|---|---|")
    for key, label in (("cpu_model", "CPU"), ("cpus", "CPUs"), ("kernel", "kernel"),
                       ("compiler", "compiler"), ("date", "date")):
        out.append(f"| {label} | {m.get(key, '–')} |")
    out.append("\n## Command\n")
    out.append(f"```\n{d.command}\n```\n")
    rmw = f", {d.rmw}% lock/get/set/unlock" if d.rmw else ""
    out.append(f"{len(d.timing_runs)} timing runs (unchecked: every figure, ranking, plot and "
               f"recommendation comes from these) and {len(d.checked_runs)} checked or crash "
               f"runs (the correctness tables only).\n")
    main = sum(r["rmw"] == d.rmw for r in d.timing_runs)
    out.append(f"Timing runs: backends {', '.join(d.backends)}. Main sweep ({main} runs"
               f"{rmw}): procs {', '.join(map(str, d.procs))}; write share "
               f"{', '.join(f'{w}%' for w in d.writes)}; sizes "
               f"{', '.join(size_text(s) for s in d.sizes)}; modes {', '.join(d.modes)}.")
    others = sorted(m for m in d.rmws if m != d.rmw)
    if others:
        out.append(f"Also {len(d.timing_runs) - main} runs at {', '.join(f'{m}%' for m in others)} "
                   f"lock/get/set/unlock, in tables of their own.")
    out.append("")


def harness_section(d, out):
    """What the harness itself costs, measured in the same run."""
    cost = [r["harness_ns"] for r in d.timing_runs if r["harness_ns"] is not None]
    rows = {}
    for r in d.timing_runs:
        if r["vs_standalone"] is not None and r["mode"] == "raw":
            rows.setdefault((r["size"], r["backend"]), []).append(r)
    if not cost and not rows:
        return
    out.append("## What the harness costs\n")
    if cost:
        out.append(f"The timing loop's own cost, measured before every timing run on a target "
                   f"whose operations do nothing (same schedule of gets and sets): median "
                   f"{statistics.median(cost):.2f} ns per operation, at most {max(cost):.2f} ns.\n")
    if rows:
        out.append("One process, reads only: the timing loop against the same get in a loop with "
                   "no harness at all, alternated in ~10 ms slices in one process (median of 9 "
                   "pairs per run, then of the repeats); 1.00 is a harness that costs nothing.\n")
        out.append("| size | backend | through the harness | alone | harness / alone |")
        out.append("|--:|---|--:|--:|--:|")
        for (size, b) in sorted(rows, key=lambda k: (k[0], backend_order([x[1] for x in rows]).index(k[1]))):
            rs = rows[(size, b)]
            ratio = statistics.median(r["vs_standalone"] for r in rs)
            alone = statistics.median(r["standalone"] for r in rs if r["standalone"])
            mine = statistics.fmean(r["ops_per_sec"] for r in rs)
            out.append(f"| {size_text(size)} | {b} | {rate_text(mine)} | {rate_text(alone)} | "
                       f"{ratio:.2f} |")
        out.append("")


def peers_section(d, out):
    """The Perl modules users run today, on the same workload, from peers.json beside the results."""
    if not d.peers:
        return
    out.append("## The Perl peers\n")
    out.append(f"`{d.peers.get('command', 'bench/peers.pl')}`: the same workload (64 B values, "
               "forked workers, a fixed time) through IPC::ShareLite with Storable and through "
               "Cache::FastMmap, against mmshare's timing runs at the same point (raw mode, "
               "64 B) in this `make bench`.\n")
    peers = d.peers["results"]
    names = sorted({p["peer"] for p in peers})
    libs = [b for b in d.measured if not b.startswith("bare-")]
    out.append("| procs | writes | " + " | ".join(f"{n} ops/s" for n in names) + " | " +
               " | ".join(f"{b} ops/s (× {' / '.join(names)})" for b in libs) + " |")
    out.append("|--:|--:|" + "--:|" * (len(names) + len(libs)))
    for procs, write in sorted({(p["procs"], p["write_ratio"]) for p in peers}):
        rate = {p["peer"]: p["ops_per_sec"] for p in peers
                if p["procs"] == procs and p["write_ratio"] == write}
        cells = [rate_text(rate[n]) if n in rate else "–" for n in names]
        for b in libs:
            pt = d.get("raw", 64, write, procs, b, 0)
            if not pt:
                cells.append("–")
                continue
            x = " / ".join(f"{pt.mean / rate[n]:.0f}" if rate.get(n) else "–" for n in names)
            cells.append(f"{rate_text(pt.mean)} (× {x})")
        out.append(f"| {procs} | {write}% | " + " | ".join(cells) + " |")
    out.append("")


def plots_section(d, out):
    out.append("## Plots\n")
    for png in PNGS:
        out.append(f"![{png[:-4].replace('_', ' ')}]({png})\n")


def write_report(d, path):
    out = []
    machine_section(d, out)
    scenario_section(d, out)
    peers_section(d, out)
    correctness_section(d, out)
    harness_section(d, out)
    advice_section(d, out)
    plots_section(d, out)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out).rstrip() + "\n")


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 3:
        print("usage: report.py RESULTS.json OUTDIR", file=sys.stderr)
        return 2
    src, outdir = argv[1], argv[2]
    try:
        d = Data(*load(src))
        d.peers = load_peers(os.path.join(os.path.dirname(src) or ".", "peers.json"))
    except Unusable as e:
        print(f"report.py: {src}: {e}", file=sys.stderr)
        return 2
    try:
        plt = plt_setup()
        os.makedirs(outdir, exist_ok=True)
        plot_throughput_vs_procs(plt, d, os.path.join(outdir, PNGS[0]))
        plot_latency(plt, d, os.path.join(outdir, PNGS[1]))
        plot_fairness(plt, d, os.path.join(outdir, PNGS[2]))
        plot_throughput_vs_size(plt, d, os.path.join(outdir, PNGS[3]))
        plot_tpl_cost(plt, d, os.path.join(outdir, PNGS[4]))
        write_report(d, os.path.join(outdir, "report.md"))
    except Unusable as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"report.py: {outdir}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"report.py: wrote report.md and {len(PNGS)} plots to {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
