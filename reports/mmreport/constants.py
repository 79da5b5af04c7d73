"""Names shared across the report: the plot files, the backends and the negative controls."""

PNGS = ("throughput_vs_procs.png", "latency.png", "fairness.png", "throughput_vs_size.png",
        "tpl_cost.png")
KNOWN = ("mutex", "fcntl", "seqlock", "memfd")
CONTROLS = {"none": "no lock at all: values tear and updates are lost",
            "stale": "whole values, but some gets return the previous one"}
