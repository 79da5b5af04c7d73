"""The Recommendations section: per-family statistics, notes and advice."""

import math
import statistics

from .constants import CONTROLS, KNOWN
from .data import ranking
from .fmt import size_text

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
            f"Serialization (tpl_pack, and the image check before tpl_unpack) runs outside the "
            f"lock, a cost per operation that the backend's own cost either hides or does not; "
            f"a share above 1 is noise between the two timing runs. See tpl_cost.png.\n"]


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
