"""The sections of report.md other than the advice, and writing the file."""

import statistics

from .advice import advice_section
from .card import card_section
from .server import server_section
from .constants import CONTROLS, PNGS
from .data import backend_order, ranking
from .fmt import rate_text, ns_text, scenario_title, size_text


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
                   + (f"{t['recovery']:.3f} ms |" if t["kills"] else "– |"))
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


def hyperfine_section(d, out):
    """Whole-process timings of the fixed-work scenarios, from hyperfine.json beside the results."""
    if not d.hyperfine:
        return
    out.append("## Whole processes (hyperfine)\n")
    out.append("The fixed-work scenarios of `bench/scenarios/` (a set number of operations per "
               "worker, process start and set-up included) timed by `hyperfine -N` over 5 runs "
               "(`hyperfine.json`, `hyperfine.md`): mean ± standard deviation, and the time over "
               "the fastest backend's in the same scenario.\n")
    out.append("| scenario | backend | time | vs fastest |")
    out.append("|---|---|--:|--:|")
    for scenario in sorted({s for s, _, _, _ in d.hyperfine}):
        rows = sorted((r for r in d.hyperfine if r[0] == scenario), key=lambda r: r[2])
        for _, b, mean, sd in rows:
            out.append(f"| {scenario} | {b} | {1e3 * mean:.1f} ± {1e3 * sd:.1f} ms | "
                       f"{mean / rows[0][2]:.2f}× |")
    out.append("")


def write_report(d, path):
    out = []
    machine_section(d, out)
    card_section(d, out)
    scenario_section(d, out)
    server_section(d, d.redis_price, out)
    peers_section(d, out)
    hyperfine_section(d, out)
    correctness_section(d, out)
    harness_section(d, out)
    advice_section(d, out)
    plots_section(d, out)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out).rstrip() + "\n")
