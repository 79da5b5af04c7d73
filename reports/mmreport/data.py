"""Grouping the runs: a Point per backend and scenario, the Data they make, their ranking."""

import statistics

from .constants import CONTROLS, KNOWN


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
        self.hyperfine = None
        self.syscalls = None
        self.redis_price = None
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


def ranking(d, mode, rmw, size, write, procs):
    pts = [(b, d.get(mode, size, write, procs, b, rmw)) for b in d.measured]
    pts = [(b, pt) for b, pt in pts if pt]
    lib = [(b, pt) for b, pt in pts if not b.startswith("bare-")]
    best = max((pt.mean for _, pt in lib), default=0)
    return sorted(lib, key=lambda bp: -bp[1].mean), [bp for bp in pts if bp not in lib], best
