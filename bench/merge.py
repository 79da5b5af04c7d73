#!/usr/bin/python3
"""merge.py OUT.json IN.json... -- one mmshare-bench/1 document with the results of all inputs
(the machine and command of the first; each input's command is kept on its results).
An mmshare-syscalls/1 input (`mmshare syscalls --json`, which writes one even when the counter is
unavailable, saying why in "error") is kept whole under "syscalls"."""
import json
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: merge.py OUT.json IN.json...")
    docs, syscalls = [], None
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        if doc.get("schema") == "mmshare-syscalls/1":
            syscalls = doc
            continue
        if doc.get("schema") != "mmshare-bench/1":
            sys.exit(f"merge.py: {path}: not an mmshare-bench/1 document")
        for res in doc["results"]:
            res.setdefault("command", doc.get("command"))
        docs.append(doc)
    merged = dict(docs[0])
    merged["commands"] = [d.get("command") for d in docs]
    merged["results"] = [r for d in docs for r in d["results"]]
    if syscalls is not None:
        merged["syscalls"] = syscalls
    with open(sys.argv[1], "w") as f:
        json.dump(merged, f, indent=1)


if __name__ == "__main__":
    main()
