"""Reading and checking a results file (mmshare-bench/1) and peers.json."""

import json
import math
import sys

SCHEMA = "mmshare-bench/1"


class Unusable(Exception):
    """The results file cannot be reported on; the message says why."""


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def need(r, i, key, kind, default=None, required=True):
    """Field key of results[i], checked: kind is 'str', 'int', 'num', 'bool' or 'dict'."""
    if key not in r or r[key] is None:
        if required:
            raise Unusable(f"results[{i}]: no \"{key}\"")
        return default
    v = r[key]
    ok = {"str": isinstance(v, str),
          "int": isinstance(v, int) and not isinstance(v, bool) and v >= 0,
          "num": is_num(v) and v >= 0,
          "bool": isinstance(v, bool),
          "dict": isinstance(v, dict)}[kind]
    if not ok:
        want = {"str": "a string", "int": "a whole number >= 0", "num": "a number >= 0",
                "bool": "true or false", "dict": "an object"}[kind]
        raise Unusable(f"results[{i}].{key}: expected {want}, got {json.dumps(v)[:40]}")
    return v


def latency(r, i, op):
    """latency_ns.<op> as a dict of floats, or None when absent or empty."""
    lat = need(r, i, "latency_ns", "dict", {}, required=False).get(op)
    if lat is None:
        return None
    if not isinstance(lat, dict):
        raise Unusable(f"results[{i}].latency_ns.{op}: expected an object")
    out = {}
    for key in ("p50", "p90", "p99", "p999", "max", "count"):
        v = lat.get(key)
        if v is not None and not (is_num(v) and v >= 0):
            raise Unusable(f"results[{i}].latency_ns.{op}.{key}: expected a number >= 0")
        out[key] = float(v) if v is not None else None
    return out if out.get("count") else None


def caps_of(r, i):
    """results[i].caps: the backend's capability words (`mmshare list`'s), or None when the file
    predates them or the run is a bare loop."""
    caps = r.get("caps")
    if caps is None:
        return None
    if not (isinstance(caps, list) and all(isinstance(c, str) for c in caps)):
        raise Unusable(f"results[{i}].caps: expected a list of capability words")
    return caps


def fault_status(r, i):
    """--fault's exit status, -1 when no fault ran (or the file predates the field)."""
    v = r.get("fault_status", -1)
    if v is None:
        return -1
    if not (isinstance(v, int) and not isinstance(v, bool) and v >= -1):
        raise Unusable(f"results[{i}].fault_status: expected a whole number >= -1")
    return v


def run_of(r, i):
    """One result, checked and reduced to what the report uses."""
    if not isinstance(r, dict):
        raise Unusable(f"results[{i}]: expected an object")
    mode = need(r, i, "mode", "str")
    if mode not in ("raw", "tpl"):
        raise Unusable(f"results[{i}].mode: expected \"raw\" or \"tpl\", got {json.dumps(mode)}")
    errors = need(r, i, "errors", "dict", {}, required=False)
    if not all(is_num(v) for v in errors.values()):
        raise Unusable(f"results[{i}].errors: expected counts")
    return {
        "backend": need(r, i, "backend", "str"), "mode": mode,
        "procs": need(r, i, "procs", "int"), "write_ratio": need(r, i, "write_ratio", "int"),
        "size": need(r, i, "size", "int"), "rmw": need(r, i, "rmw", "int", 0, False),
        "ops_per_sec": float(need(r, i, "ops_per_sec", "num")),
        "jain": need(r, i, "fairness_jain", "num", None, False),
        "get": latency(r, i, "get"), "set": latency(r, i, "set"),
        "contended": need(r, i, "contended", "bool", None, False),
        "overlap": need(r, i, "overlap", "num", None, False),
        "checked": need(r, i, "checked", "bool", False, False),
        "torn": need(r, i, "torn", "int", 0, False),
        "violations": need(r, i, "violations", "int", 0, False),
        "lost_updates": need(r, i, "lost_updates", "int", 0, False),
        "kills": need(r, i, "kills", "int", 0, False),
        "recovery_ms_max": need(r, i, "recovery_ms_max", "num", 0.0, False),
        "errors": int(sum(errors.values())),
        "edead": int(errors.get("EDEAD", 0)),
        "errors_by": {k: int(v) for k, v in errors.items() if v},
        "stalls": need(r, i, "stalls", "int", 0, False),
        "stalls_in_lock": need(r, i, "stalls_in_lock", "int", 0, False),
        "fault_status": fault_status(r, i),
        "fault_ms": need(r, i, "fault_ms", "num", 0.0, False),
        "ops_after_fault": need(r, i, "ops_after_fault", "int", 0, False),
        "gap_ms_max": need(r, i, "gap_ms_max", "num", 0.0, False),
        "history_ops": need(r, i, "history_ops", "int", 0, False),
        "note": need(r, i, "note", "str", None, False),
        "caps": caps_of(r, i),
        "baseline": need(r, i, "baseline", "bool", False, False),
        "unsafe": need(r, i, "unsafe", "bool", False, False),
        "hung": need(r, i, "hung", "bool", False, False),
        "kills_in_lock": need(r, i, "kills_in_lock", "int", None, False),
        "command": need(r, i, "command", "str", None, False),
        # Older files have no "timing": a run without --check and --kill was a timing run.
        "timing": need(r, i, "timing", "bool", None, False),
        # an older bench could write a low end below 0 for a very noisy run: a rate's is 0
        "ci_lo": need(dict(r, ci95_low=max(0.0, r["ci95_low"]) if is_num(r.get("ci95_low"))
                           else r.get("ci95_low")), i, "ci95_low", "num", None, False),
        "ci_hi": need(r, i, "ci95_high", "num", None, False),
        "harness_ns": need(r, i, "harness_ns_per_op", "num", None, False),
        "vs_standalone": need(r, i, "vs_standalone", "num", None, False),
        "standalone": need(r, i, "standalone_ops_per_sec", "num", None, False),
    }


def load(path):
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8-sig"))
    except OSError as e:
        raise Unusable(f"cannot read: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise Unusable(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise Unusable("expected a JSON object at the top")
    if doc.get("schema") != SCHEMA:
        raise Unusable(f"unknown schema {json.dumps(doc.get('schema'))} (expected \"{SCHEMA}\")")
    results = doc.get("results")
    if not isinstance(results, list):
        raise Unusable("\"results\" is missing or not an array")
    if not results:
        raise Unusable("no results")
    machine = doc.get("machine") if isinstance(doc.get("machine"), dict) else {}
    commands = doc.get("commands")
    if not (isinstance(commands, list) and commands and all(isinstance(c, str) for c in commands)):
        commands = [doc["command"] if isinstance(doc.get("command"), str) else "(not recorded)"]
    runs = [run_of(r, i) for i, r in enumerate(results)]
    for r in runs:
        if r["timing"] is None:
            r["timing"] = not r["checked"] and not r["kills"]
    if not any(r["timing"] for r in runs):
        raise Unusable("no timing runs: every run is checked (--check or --kill), and a checked "
                       "run's throughput is the checker's; rank from runs without them")
    return machine, "\n".join(commands), runs


def load_peers(path):
    """peers.json (bench/peers.pl) when it is there and usable; None otherwise."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    ok = (isinstance(doc, dict) and doc.get("schema") == "mmshare-peers/1" and
          isinstance(doc.get("results"), list) and doc["results"] and
          all(isinstance(p, dict) and isinstance(p.get("peer"), str) and
              isinstance(p.get("procs"), int) and isinstance(p.get("write_ratio"), int) and
              is_num(p.get("ops_per_sec")) for p in doc["results"]))
    if not ok:
        print(f"report.py: {path}: not an mmshare-peers/1 file; no peer table", file=sys.stderr)
        return None
    return doc


def load_hyperfine(path):
    """hyperfine.json (bench/hyperfine.sh) as [(scenario, backend, mean s, sd s)], or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        rows = []
        for r in doc["results"]:
            scenario, backend = r["command"].rsplit("/", 1)
            if not (is_num(r["mean"]) and r["mean"] > 0):
                raise ValueError("mean")
            rows.append((scenario, backend, float(r["mean"]), float(r.get("stddev") or 0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return rows or None


def load_redis_price(path):
    """redis_price.json (bench/redis-price.sh) when it is there and usable; None otherwise."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("schema") != "mmshare-redis-price/1":
            raise ValueError("schema")
        for r in doc["rounds"]:
            if not all(is_num(r[k]) and r[k] > 0 for k in ("redis_benchmark_get", "ours_get")):
                raise ValueError("round")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return doc


def load_syscalls(path):
    """The "syscalls" document merge.py keeps (`mmshare syscalls --json`): None when there is
    none; else {"command", "method", "size", "error", "rows": {backend: {op: per op or None}}}."""
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8-sig")).get("syscalls")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return None
    if doc is None:
        return None
    rows = {}
    try:
        if doc["schema"] != "mmshare-syscalls/1":
            raise ValueError("schema")
        for row in doc.get("results") or []:
            counts = {op: row.get(op) for op in ("get", "set", "lock_unlock")}
            if not isinstance(row["backend"], str) or \
                    not all(v is None or (is_num(v) and v >= 0) for v in counts.values()):
                raise ValueError("row")
            rows[row["backend"]] = counts
    except (KeyError, TypeError, ValueError):
        print(f"report.py: {path}: \"syscalls\" is not an mmshare-syscalls/1 document; no "
              f"system call column", file=sys.stderr)
        return None
    error = doc.get("error") if isinstance(doc.get("error"), str) else None
    return {"command": doc.get("command") or "mmshare syscalls", "method": doc.get("method"),
            "size": doc.get("size"), "error": error, "rows": rows}
