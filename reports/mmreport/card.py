"""The strategy card: one row per backend, everything a reader chooses by, in one table.

Nothing here knows a backend by name: what a backend offers comes from the "caps" the bench
writes on each result (the words of `mmshare list`), its crash story from the crash run, its
system calls from `mmshare syscalls`, so a new backend or a plug-in gets its row by itself."""

from .constants import CONTROLS
from .data import backend_order
from .fmt import ns_text, rate_text, scenario_title, size_text


def card_backends(d):
    """The library backends in any run: not bare loops, not negative controls."""
    names = {r["backend"] for r in d.runs
             if not r["baseline"] and not r["unsafe"] and r["backend"] not in CONTROLS and
             not r["backend"].startswith("bare-") and "UNSAFE" not in (r["caps"] or ())}
    return backend_order(names)


def caps_of(d, backend):
    """The backend's capability words from its results, or None when no result has them."""
    for r in d.runs:
        if r["backend"] == backend and r["caps"] is not None:
            return set(r["caps"])
    return None


def card_procs(d):
    """One worker, as many as CPUs, and the most the runs have (the oversubscribed point)."""
    every = sorted({r["procs"] for r in d.timing_runs})
    return sorted({1, d.cpus or 2, every[-1]}) if every else []


def card_point(d, procs):
    """The (mode, size, write, rmw) measured at the most of procs: both sweeps share one point
    (raw, 64 B, 10% writes in bench/*.args); ties go to raw, no rmw, 10% writes, small values."""
    cover = {}
    for mode, size, write, p, rmw, _ in d.points:
        if p in procs:
            cover.setdefault((mode, size, write, rmw), set()).add(p)
    if not cover:
        return None
    return max(cover, key=lambda k: (len(cover[k]), k[0] == "raw", k[3] == 0,
                                     -abs(k[2] - 10), -k[1]))


def readers_text(caps):
    if caps is None:
        return "?"
    if "shared-read" not in caps:
        return "exclusive"
    return "shared, never wait" if "read-nowait" in caps else "shared"


def crash_safe_text(caps):
    if caps is None:
        return "?"
    return "yes" if "crash-safe" in caps else "no: MMS_EDEAD"


def crash_text(d, backend, caps):
    """What the crash run (--kill) did to this backend, measured, set against what it declares."""
    runs = [r for r in d.checked_runs if r["backend"] == backend and r["kills"]]
    if not runs:
        return "not run"
    kills = sum(r["kills"] for r in runs)
    in_lock = [r["kills_in_lock"] for r in runs if r["kills_in_lock"] is not None]
    bad = [f"{sum(r[k] for r in runs)} {k.replace('_', ' ')}"
           for k in ("torn", "violations", "lost_updates") if any(r[k] for r in runs)]
    edead = sum(r["edead"] for r in runs)
    if any(r["hung"] for r in runs):
        return f"**HUNG** ({kills} kills)"
    if bad:
        return f"**FAILED**: {', '.join(bad)} ({kills} kills)"
    if edead:
        text = f"MMS_EDEAD ({edead} calls) after {kills} kills, no hang"
        return text + (" — **but it declares crash-safe**" if caps and "crash-safe" in caps
                       else "")
    rec = max(r["recovery_ms_max"] for r in runs)
    text = f"{kills} kills, values whole, nothing lost; recovery ≤ {rec:.3g} ms"
    if caps is not None and "crash-safe" not in caps:
        text += (" (no holder died in the lock)" if in_lock and not sum(in_lock) else
                 " — **no MMS_EDEAD though not crash-safe**")
    return text


def syscalls_text(d, backend):
    sc = d.syscalls
    row = sc["rows"].get(backend) if sc else None
    if not row or row["get"] is None or row["set"] is None:
        return "–"
    return f"{row['get']:.3g} / {row['set']:.3g}"


def fairness_text(d, key, backend, procs):
    """Jain's index at each contended column (more than one worker); † when not contended."""
    mode, size, write, rmw = key
    cells = []
    for p in procs:
        if p < 2:
            continue
        pt = d.get(mode, size, write, p, backend, rmw)
        cells.append("–" if not pt or pt.jain is None else
                     f"{pt.jain:.3f}" + ("†" if pt.uncontended else ""))
    return " · ".join(cells) or "–"


def figure_text(d, key, backend, p):
    """ops/s (share of the column's fastest backend, same run) · p99 get / set."""
    mode, size, write, rmw = key
    pt = d.get(mode, size, write, p, backend, rmw)
    if not pt:
        return "–"
    best = max((q.mean for b in card_backends(d)
                for q in [d.get(mode, size, write, p, b, rmw)] if q), default=0)
    ratio = pt.mean / best if best > 0 else None
    share = "" if ratio is None else f" ({ratio:.2f})" if ratio >= 0.1 else f" ({ratio:.2g})"
    return (f"{rate_text(pt.mean)}{share} · {ns_text(pt.lat('get', 'p99'))} / "
            f"{ns_text(pt.lat('set', 'p99'))}")


def card_notes(d, key, procs):
    """Where every column comes from: the commands, and how the system calls were counted."""
    mode, size, write, rmw = key
    used = sorted({r["command"] for r in d.timing_runs if r["command"] and
                   (r["mode"], r["size"], r["write_ratio"], r["rmw"]) == key and
                   r["procs"] in procs})
    crash = sorted({r["command"] for r in d.checked_runs if r["kills"] and r["command"]})
    out = [f"Throughput and latency: timing runs at {scenario_title(mode, rmw, size, write, 'N')}"
           f"{' (the point both sweeps share)' if len(used) > 1 else ''}: mean ops/s of the "
           f"repeats, in brackets the share of the fastest backend in that column (same run); "
           f"then p99 get / p99 set. Fairness: Jain's index (1 = equal shares) at "
           f"{' · '.join(str(p) for p in procs if p > 1)} workers; † marks a point with runs not "
           f"under contention (the workers never waited for one another, or were not all "
           f"running at once for 90% of the window, as with more workers than CPUs: see "
           f"*Correctness and crashes*).", ""]
    out += [f"- `{c}`" for c in used] + [""]
    out.append("Crash run: workers SIGKILLed at random instants with --check; a crash-safe "
               "backend must keep every value whole and lose nothing, one that is not must "
               "answer MMS_EDEAD (the area is unusable) and never hang:")
    out += [""] + [f"- `{c}`" for c in crash] + [""]
    sc = d.syscalls
    if sc and sc["error"]:
        out.append(f"System calls: not counted on this machine: {sc['error']}.\n")
    elif sc:
        out.append(f"System calls per uncontended get / set ({size_text(sc['size'] or 0)} values, "
                   f"one process forked from the creator, as a bench worker is): `{sc['command']}`, "
                   f"counted by {sc['method']}. Why this counter: strace or perf around "
                   f"`mmshare bench` count every process of the run, and its parent naps and its "
                   f"workers spin on sched_yield at the start gate, so the count would depend on "
                   f"how long the run took; here nothing but the operations falls between two "
                   f"reads of the counter.\n")
    else:
        out.append("System calls: no `mmshare syscalls` output in this file.\n")
    return out


def card_section(d, out):
    procs = card_procs(d)
    key = card_point(d, procs)
    backends = card_backends(d)
    if not key or not backends:
        return
    out.append("## Strategy card\n")
    out.append("One row per backend, what each offers read from the tool (`caps` in the bench "
               "JSON, the words of `mmshare list`), every figure measured in this run.\n")
    jain_at = " · ".join(str(p) for p in procs if p > 1)
    head = ["backend", "readers", "crash-safe", "crash run (--kill)", "syscalls get / set",
            f"fairness (Jain) at {jain_at}"] + [f"{p} worker{'s' if p > 1 else ''}: ops/s · p99 get / set"
                           for p in procs]
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|---|---|---|--:|--:|" + "--:|" * len(procs))
    for b in backends:
        caps = caps_of(d, b)
        cells = [b, readers_text(caps), crash_safe_text(caps), crash_text(d, b, caps),
                 syscalls_text(d, b), fairness_text(d, key, b, procs)]
        cells += [figure_text(d, key, b, p) for p in procs]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if any(caps_of(d, b) is None for b in backends):
        out.append("? : this results file has no `caps` (written before the bench recorded "
                   "them), so what the backend offers is not known here.\n")
    out.extend(card_notes(d, key, procs))
