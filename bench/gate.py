#!/usr/bin/python3
"""gate.py -- run the regression gate's sweep and write one mmshare-bench/1 JSON per build.

  gate.py run --mmshare BIN --out FILE [--rounds N]
  gate.py ab  --a BIN --b BIN --out-a A.json --out-b B.json [--rounds N]

Each round runs bench/gate.args once (every round a fresh process); `ab` alternates the two builds
round by round (A B A B ...) so that drift on a shared machine hits both alike. The results of all
rounds go into one file with repeat = round. Single-process scenarios also get insn_per_op: the
instructions of the operation loop alone, counted by valgrind's callgrind, which is deterministic
on a noisy machine.
"""
import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INSN_OPS = (5000, 10000)        # two runs: the difference cancels per-process set-up


def gate_args():
    with open(os.path.join(HERE, "gate.args")) as f:
        return shlex.split(f.read())


def bench_once(binary, round_no, tmp):
    out = os.path.join(tmp, "round.json")
    cmd = [binary, "bench", *gate_args(), "--quiet", "--seed", str(round_no + 1), "--json", out]
    r = subprocess.run(cmd)
    if r.returncode not in (0, 1) or not os.path.exists(out):
        sys.exit(f"gate.py: {' '.join(cmd)} failed with status {r.returncode}")
    with open(out) as f:
        doc = json.load(f)
    for res in doc["results"]:
        res["repeat"] = round_no
    return doc


def callgrind_total(binary, backend, size, ops, tmp):
    pattern = os.path.join(tmp, f"cg.{backend}.{size}.{ops}")
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=run_loop",
           f"--callgrind-out-file={pattern}.%p", binary, "bench", "--backend", backend,
           "--procs", "1", "--write-ratio", "10", "--size", str(size), "--ops", str(ops),
           "--warmup", "0", "--quiet"]
    subprocess.run(cmd, stderr=subprocess.DEVNULL, check=True)
    total = 0
    for path in glob.glob(pattern + ".*"):
        with open(path) as f:
            for line in f:
                if line.startswith("totals:"):
                    total += int(line.split()[1])
        os.remove(path)         # the other build's run uses the same names
    return total


def insn_per_op(binary, backend, size, tmp):
    lo, hi = (callgrind_total(binary, backend, size, n, tmp) for n in INSN_OPS)
    return (hi - lo) / (INSN_OPS[1] - INSN_OPS[0])


def add_insn(doc, binary, tmp):
    cache = {}
    for res in doc["results"]:
        if res["procs"] != 1 or res["mode"] != "raw" or res.get("unsafe"):
            continue
        key = (res["backend"], res["size"])
        if key not in cache:
            cache[key] = insn_per_op(binary, res["backend"], res["size"], tmp)
        res["insn_per_op"] = cache[key]


def merge(docs):
    merged = dict(docs[0])
    merged["results"] = [res for d in docs for res in d["results"]]
    return merged


def write(doc, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"gate.py: wrote {path} ({len(doc['results'])} results)", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("verb", choices=["run", "ab"])
    p.add_argument("--mmshare")
    p.add_argument("--out")
    p.add_argument("--a")
    p.add_argument("--b")
    p.add_argument("--out-a")
    p.add_argument("--out-b")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-insn", action="store_true", help="skip the callgrind instruction counts")
    o = p.parse_args()
    builds = [(o.mmshare, o.out)] if o.verb == "run" else [(o.a, o.out_a), (o.b, o.out_b)]
    if any(b is None or out is None for b, out in builds) or o.rounds < 1:
        p.error("run needs --mmshare and --out; ab needs --a --b --out-a --out-b; --rounds >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        docs = [[] for _ in builds]
        for r in range(o.rounds):
            print(f"gate.py: round {r + 1} of {o.rounds}", file=sys.stderr)
            for k, (binary, _) in enumerate(builds):
                docs[k].append(bench_once(binary, r, tmp))
        for k, (binary, out) in enumerate(builds):
            doc = merge(docs[k])
            if not o.no_insn:
                add_insn(doc, binary, tmp)
            write(doc, out)


if __name__ == "__main__":
    main()
