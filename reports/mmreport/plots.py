"""The five PNG plots, drawn with matplotlib."""

import math

from .fmt import size_text
from .load import Unusable

COLORS = {"mutex": "#1f77b4", "fcntl": "#ff7f0e", "seqlock": "#2ca02c", "memfd": "#d62728",
          "bare-mutex": "#7f7f7f", "bare-seqlock": "#404040"}
MARKERS = {"mutex": "o", "fcntl": "s", "seqlock": "^", "memfd": "D"}
PCTS = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"))
PCT_COLORS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")


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
                       f"{size_text(size)} values (mean of repeats; bars: 95% interval)")
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
