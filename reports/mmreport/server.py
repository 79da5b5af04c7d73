"""Beyond one machine: the backends whose value lives in a server (capability "server"), set
beside shared memory at the same points of the same run, against the server's own benchmark,
and under the faults only a server has (it dies; a holder stalls past its lease)."""

import statistics

from .card import card_backends, caps_of
from .fmt import ns_text, rate_text


def server_backends(d):
    return [b for b in card_backends(d) if "server" in (caps_of(d, b) or ())]


def price_table(d, servers, out):
    shared = [b for b in card_backends(d) if b not in servers]
    procs = sorted({r["procs"] for r in d.timing_runs if r["backend"] in servers})
    for write in (0, 10):
        rows = []
        for p in procs:
            pts = {b: d.get("raw", 64, write, p, b, 0) for b in shared + servers}
            best = max(((b, q) for b, q in pts.items() if q and b in shared),
                       key=lambda bq: bq[1].mean, default=None)
            cells = [str(p), f"{best[0]} {rate_text(best[1].mean)}" if best else "–"]
            for s in servers:
                q = pts[s]
                if not q:
                    cells.append("–")
                    continue
                share = f" ({q.mean / best[1].mean:.2g}×)" if best and best[1].mean > 0 else ""
                cells.append(f"{rate_text(q.mean)}{share} · {ns_text(q.lat('get', 'p50'))} / "
                             f"{ns_text(q.lat('get', 'p99'))}")
            rows.append(cells)
        if not any(any(c != "–" for c in r[2:]) for r in rows):
            continue
        out.append(f"**Raw 64 B values, {write}% writes** (unchecked timing runs; in brackets the "
                   f"share of the fastest shared-memory backend at that point, same run; then p50 "
                   f"/ p99 get):\n")
        out.append("| workers | fastest shared memory | " + " | ".join(servers) + " |")
        out.append("|--:|--:|" + "--:|" * len(servers))
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out.append("")


def benchmark_table(price, out):
    out.append("**Our get against the server's own benchmark** (`redis-benchmark -P 1`, GET of a "
               "96-byte value, on the same server, rounds alternating with ours; the target is "
               "0.8× or more):\n")
    out.append("| clients | round | redis-benchmark GET/s | our get/s | ratio |")
    out.append("|--:|--:|--:|--:|--:|")
    for r in sorted(price["rounds"], key=lambda r: (r["clients"], r["round"])):
        out.append(f"| {r['clients']} | {r['round']} | {rate_text(r['redis_benchmark_get'])} | "
                   f"{rate_text(r['ours_get'])} | {r['ours_get'] / r['redis_benchmark_get']:.2f} |")
    for c in sorted({r["clients"] for r in price["rounds"]}):
        ratios = [r["ours_get"] / r["redis_benchmark_get"] for r in price["rounds"]
                  if r["clients"] == c]
        med = statistics.median(ratios)
        out.append(f"\n{c} client{'s' if c > 1 else ''}: median ratio {med:.2f} "
                   f"({'meets' if med >= 0.8 else '**below**'} 0.8×).")
    out.append(f"\nServer: {price.get('server', '?')}. `{price.get('command', '')}`\n")


def fault_rows(d, servers):
    return [r for r in d.checked_runs if r["backend"] in servers and
            (r["fault_status"] >= 0 or r["stalls"])]


def fault_table(d, servers, out):
    rows = fault_rows(d, servers)
    if not rows:
        return
    out.append("**Faults, checked** (every operation recorded and the history checked; the "
               "errors are the fault's declared answers: MMS_ESYS while the server is away, "
               "MMS_EFENCED for a stopped holder whose lease ran out). `make bench`'s --fault "
               "command SIGKILLs the server and restarts it on its data (`bench/redis.sh kill` "
               "and `restart`):\n")
    out.append("| backend | fault | operations checked | torn · violations · lost | errors | "
               "longest gap between a worker's completed calls |")
    out.append("|---|---|--:|--:|---|--:|")
    for r in rows:
        if r["fault_status"] >= 0:
            what = (f"--fault command halfway ({r['fault_ms']:.0f} ms"
                    f"{'' if r['fault_status'] == 0 else ', **the command failed**'}); "
                    f"{r['ops_after_fault']} operations after it")
        else:
            what = f"{r['stalls']} holder(s) SIGSTOPped past the lease ({r['stalls_in_lock']} holding)"
        bad = f"{r['torn']} · {r['violations']} · {r['lost_updates']}"
        if r["hung"] or r["torn"] or r["violations"] or r["lost_updates"]:
            bad = f"**{bad}{' HUNG' if r['hung'] else ''}**"
        errs = ", ".join(f"{k} {v}" for k, v in sorted(r["errors_by"].items())) or "none"
        out.append(f"| {r['backend']} | {what} | {r['history_ops']} | {bad} | {errs} | "
                   f"{r['gap_ms_max']:.0f} ms |")
    out.append("")
    out += [f"- `{c}`" for c in sorted({r["command"] for r in rows if r["command"]})]
    out.append("")


def server_section(d, price, out):
    servers = server_backends(d)
    if not servers and not price:
        return
    out.append("## Beyond one machine: a server\n")
    notes = sorted({f'*{r["backend"]}* is {r["note"]}.' for r in d.runs
                    if r["backend"] in servers and r["note"]})
    out.append("The same contract kept by a server: the lock a lease with fencing, every call a "
               "round trip. What that costs here, and what it survives. " + " ".join(notes) + "\n")
    if servers:
        price_table(d, servers, out)
    if price:
        benchmark_table(price, out)
    fault_table(d, servers, out)
