#!/usr/bin/python3
"""report.py -- plots and a markdown report from one `mmshare bench --json` file.

usage: report.py RESULTS.json OUTDIR

Writes throughput_vs_procs.png, latency.png, fairness.png, throughput_vs_size.png, tpl_cost.png
and report.md into OUTDIR. Exit status: 0 written, 2 unusable input or OUTDIR not writable.
The work is done by the package mmreport/ beside this file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmreport.constants import PNGS  # noqa: E402 -- after the path is set
from mmreport.data import Data  # noqa: E402
from mmreport.load import (Unusable, load, load_hyperfine, load_peers,  # noqa: E402
                           load_redis_price, load_syscalls)
from mmreport.plots import (plot_fairness, plot_latency, plot_throughput_vs_procs,  # noqa: E402
                            plot_throughput_vs_size, plot_tpl_cost, plt_setup)
from mmreport.tables import write_report  # noqa: E402


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
        d.hyperfine = load_hyperfine(os.path.join(os.path.dirname(src) or ".", "hyperfine.json"))
        d.syscalls = load_syscalls(src)
        d.redis_price = load_redis_price(os.path.join(os.path.dirname(src) or ".", "redis_price.json"))
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
