#!/usr/bin/python3
"""report_test.py -- reports/report.py on the hand-made fixture, and on files it must refuse.

The fixture: a checked run (--check --kill 1, its "timing" false) and, added by hand, a timing
copy of each of its non-control results (4x the throughput, a +-3% interval)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "reports", "report.py")
FIXTURE = os.path.join(HERE, "fixtures", "bench-small.json")
PNGS = ("throughput_vs_procs.png", "latency.png", "fairness.png", "throughput_vs_size.png",
        "tpl_cost.png")
MERGE = os.path.join(HERE, "..", "bench", "merge.py")
SECTIONS = ("# mmshare benchmark report", "## Machine", "## Command", "## Strategy card",
            "## Results by scenario",
            "## Correctness and crashes", "## Recommendations", "## Plots")


def run(*args):
    return subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True,
                          timeout=300)


class FixtureReport(unittest.TestCase):
    """One run on the fixture; every test reads what it wrote."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.tmp.name, "out")
        cls.proc = run(FIXTURE, cls.out)
        with open(os.path.join(cls.out, "report.md"), encoding="utf-8") as fh:
            cls.md = fh.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_status(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stderr, "")

    def test_pngs(self):
        for name in PNGS:
            path = os.path.join(self.out, name)
            with self.subTest(png=name):
                self.assertGreater(os.path.getsize(path), 1000)
                with open(path, "rb") as fh:
                    self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")

    def test_sections(self):
        for heading in SECTIONS:
            with self.subTest(heading=heading):
                self.assertIn("\n" + heading + "\n", "\n" + self.md)

    def test_machine_and_command(self):
        self.assertIn("Intel(R) Xeon(R) CPU @ 2.20GHz", self.md)
        self.assertIn("--backend mutex,fcntl,seqlock,memfd,none,stale", self.md)

    def test_every_scenario_ranked(self):
        # 2 modes x 2 sizes x 2 write shares x 2 procs, each with a ranking of the 4 backends
        self.assertEqual(self.md.count("| # | backend | ops/s | vs best |"), 16)
        self.assertIn("### raw · 64 B · 10% writes · 2 procs", self.md)
        self.assertIn("### tpl · 4 KiB · 50% writes · 4 procs", self.md)

    def test_controls_only_in_correctness(self):
        before, after = self.md.split("## Correctness and crashes")
        correctness = after.split("## Recommendations")[0]
        for control in ("none", "stale"):
            self.assertNotIn(f"| {control} |", before)
            self.assertIn(f"{control} (negative control)", correctness)
            self.assertIn(f"**{control} is broken, as intended", correctness)

    def test_card_of_a_file_without_caps(self):
        rows = card_rows(self.md)
        self.assertEqual(rows["mutex"][1:3], ["?", "?"])      # unknown, never guessed by name
        self.assertIn("no `caps`", self.md)
        self.assertNotIn("none", rows)

    def test_uncontended_point_noted(self):
        self.assertIn("fcntl, tpl · 4 KiB · 10% writes · 2 procs: 1 of 2 runs", self.md)

    def test_recommendations_weigh_the_crash_story(self):
        advice = self.md.split("## Recommendations")[1]
        self.assertIn("read-mostly", advice)
        self.assertIn("EOWNERDEAD", advice)
        self.assertIn("kernel drops a dead process's locks", advice)
        self.assertIn("never use them", advice)


class BrokenBackend(unittest.TestCase):
    def test_real_backend_failure_is_loud(self):
        with open(FIXTURE, encoding="utf-8") as fh:
            doc = json.load(fh)
        for r in doc["results"]:
            if r["backend"] == "seqlock" and r["repeat"] == 0:
                r["lost_updates"] = 3
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "bad.json")
            with open(src, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            proc = run(src, os.path.join(tmp, "out"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(tmp, "out", "report.md"), encoding="utf-8") as fh:
                md = fh.read()
        self.assertIn("**FAILURE — seqlock: 48 lost updates.**", md)


def report_of(doc, beside=None):
    """report.py on a changed fixture, with the files of beside ({name: document}) next to it:
    (exit status, stderr, report.md or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "changed.json")
        with open(src, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        for name, other in (beside or {}).items():
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                json.dump(other, fh)
        proc = run(src, os.path.join(tmp, "out"))
        path = os.path.join(tmp, "out", "report.md")
        md = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                md = fh.read()
    return proc.returncode, proc.stderr, md


def fixture():
    with open(FIXTURE, encoding="utf-8") as fh:
        return json.load(fh)


class TimingOnly(unittest.TestCase):
    """Figures come from timing runs alone; a checked run never reaches a ranking."""

    def test_checked_throughput_never_ranked(self):
        doc = fixture()
        for r in doc["results"]:
            if r["backend"] == "fcntl" and not r["timing"]:
                r["ops_per_sec"] = 9.99e12          # would rank first everywhere
        code, err, md = report_of(doc)
        self.assertEqual(code, 0, err)
        results = md.split("## Results by scenario")[1].split("## Correctness")[0]
        self.assertNotIn("10 T", results)
        self.assertNotIn("| 1 | fcntl |", results)

    def test_checked_runs_alone_are_refused(self):
        doc = fixture()
        doc["results"] = [r for r in doc["results"] if not r["timing"]]
        code, err, md = report_of(doc)
        self.assertEqual(code, 2)
        self.assertIn("no timing runs", err)
        self.assertIsNone(md)

    def test_overlapping_intervals_are_tied(self):
        doc = fixture()
        for r in doc["results"]:
            if r["timing"] and r["mode"] == "raw" and r["size"] == 64 and r["procs"] == 2 \
                    and r["write_ratio"] == 10:
                r["ops_per_sec"] = 100e6 if r["backend"] == "mutex" else 99e6 \
                    if r["backend"] == "seqlock" else 1e6
                r["ci95_low"], r["ci95_high"] = r["ops_per_sec"] * 0.98, r["ops_per_sec"] * 1.02
        code, err, md = report_of(doc)
        self.assertEqual(code, 0, err)
        table = md.split("### raw · 64 B · 10% writes · 2 procs")[1].split("###")[0]
        self.assertIn("| 2 | seqlock | 99 M [97 M–101 M] (n=2) | 0.99 tied |", table)
        self.assertNotIn("fcntl | 1 M [980 k–1.02 M] (n=2) | 0.01 tied", table)


CAPS = {"mutex": ["crash-safe", "mapping"],
        "fcntl": ["crash-safe", "shared-read", "hostile-safe", "mapping"],
        "seqlock": ["crash-safe", "shared-read", "read-nowait", "mapping"],
        "memfd": ["crash-safe", "shared-read", "read-nowait", "export-fd", "hostile-safe",
                  "mapping"],
        "none": ["mapping", "UNSAFE"], "stale": ["mapping", "UNSAFE"]}


def card_fixture():
    """The fixture as the bench writes it now: caps on every result, a crash run, syscall counts,
    and a backend no code knows by name (newlock, a copy of mutex that is not crash-safe)."""
    doc = fixture()
    for r in doc["results"]:
        r["caps"] = CAPS[r["backend"]]
    copies = [dict(r, backend="newlock", caps=[]) for r in doc["results"]
              if r["backend"] == "mutex"]
    for r in copies:
        if r["kills"]:
            r["errors"], r["kills_in_lock"] = {"EDEAD": 7}, 1
    doc["results"] += copies
    doc["syscalls"] = {"schema": "mmshare-syscalls/1", "command": "mmshare syscalls --json x",
                       "method": "the test's", "size": 64, "error": None,
                       "results": [{"backend": "fcntl", "get": 2.0, "set": 2.0},
                                   {"backend": "newlock", "get": 1.5, "set": 0.0}]}
    return doc


def card_rows(md):
    """The card's rows by backend, as lists of cells."""
    card = md.split("## Strategy card")[1].split("\n## ")[0]
    rows = [line.strip("|").split(" | ") for line in card.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells] for cells in rows[1:]}


def altered_card_fixture():
    """The card fixture with what the card must show when it happens: fcntl declaring nothing
    (its row must follow the caps, not its name), mutex answering MMS_EDEAD though crash-safe,
    seqlock hung, memfd torn in the crash run, and no counter on the machine."""
    doc = card_fixture()
    for r in doc["results"]:
        if r["backend"] == "fcntl":
            r["caps"] = ["mapping"]
        if not r["kills"]:
            continue
        if r["backend"] == "mutex":
            r["errors"] = {"EDEAD": 1}
        elif r["backend"] == "seqlock":
            r["hung"] = True
        elif r["backend"] == "memfd":
            r["torn"] = 2
    doc["syscalls"].update(error="perf_event_open: Permission denied", results=[])
    return doc


def server_fixture():
    """The card fixture with a server backend no code knows by name (farlock: mutex's runs at a
    thousandth of the pace, caps crash-safe, lease, server), its two fault runs, and the price file."""
    doc = card_fixture()
    far = [dict(r, backend="farlock", caps=["crash-safe", "lease", "server"],
                ops_per_sec=r["ops_per_sec"] / 1000, note="a test server",
                ci95_low=r["ci95_low"] / 1000 if r.get("ci95_low") else None,
                ci95_high=r["ci95_high"] / 1000 if r.get("ci95_high") else None)
           for r in doc["results"] if r["backend"] == "mutex"]
    checked = [r for r in far if not r.get("timing", True)]
    fault = dict(checked[0], kills=0, fault_status=0, fault_ms=321.0, gap_ms_max=456.0,
                 ops_after_fault=777,
                 errors={"ESYS": 99}, history_ops=5000, command="mmshare bench --fault x")
    stall = dict(checked[0], kills=0, stalls=2, stalls_in_lock=1, errors={"EFENCED": 3},
                 gap_ms_max=2500.0, history_ops=4000, command="mmshare bench --stall 2")
    doc["results"] += far + [fault, stall]
    price = {"schema": "mmshare-redis-price/1", "server": "Redis server v=7.0.15",
             "command": "bench/redis-price.sh",
             "rounds": [{"round": 1, "clients": 1, "redis_benchmark_get": 20000.0,
                         "ours_get": 19000.0},
                        {"round": 1, "clients": 4, "redis_benchmark_get": 40000.0,
                         "ours_get": 28000.0}]}
    return doc, {"redis_price.json": price}


class ServerSection(unittest.TestCase):
    """Beyond one machine: chosen by the caps' "server", priced against shared memory and the
    server's own benchmark, with the fault runs and their declared errors."""

    @classmethod
    def setUpClass(cls):
        doc, beside = server_fixture()
        cls.code, cls.err, cls.md = report_of(doc, beside)
        cls.section = cls.md.split("## Beyond one machine: a server")[1].split("\n## ")[0]

    def test_written_without_complaint(self):
        self.assertEqual(self.code, 0, self.err)

    def test_priced_beside_shared_memory(self):
        self.assertIn("| workers | fastest shared memory | farlock |", self.section)
        self.assertRegex(self.section, r"\| 2 \| \w+ [0-9.]+ M \| [0-9.]+ k \(0\.000[0-9]+×\) · ")

    def test_against_the_servers_benchmark(self):
        self.assertIn("1 client: median ratio 0.95 (meets 0.8×)", self.section)
        self.assertIn("4 clients: median ratio 0.70 (**below** 0.8×)", self.section)

    def test_fault_runs(self):
        self.assertIn("--fault command halfway (321 ms); 777 operations after it", self.section)
        self.assertIn("| ESYS 99 | 456 ms |", self.section)
        self.assertIn("2 holder(s) SIGSTOPped past the lease (1 holding)", self.section)
        self.assertIn("| EFENCED 3 | 2500 ms |", self.section)

    def test_no_section_without_a_server(self):
        self.assertNotIn("Beyond one machine", report_of(card_fixture())[2])


class StrategyCard(unittest.TestCase):
    """The card: a row per backend from the file's caps, the crash run beside it, counts.
    Two reports (each makes the plots too, seconds apart): as the bench writes it, and altered."""

    @classmethod
    def setUpClass(cls):
        cls.code, cls.err, cls.md = report_of(card_fixture())
        cls.alt_code, cls.alt_err, cls.alt_md = report_of(altered_card_fixture())

    def test_written_without_complaint(self):
        for code, err in ((self.code, self.err), (self.alt_code, self.alt_err)):
            self.assertEqual(code, 0, err)
            self.assertEqual(err, "")

    def test_rows_come_from_caps(self):
        rows = card_rows(self.md)
        self.assertEqual(list(rows), ["mutex", "fcntl", "seqlock", "memfd", "newlock"])
        self.assertEqual(rows["mutex"][1:3], ["exclusive", "yes"])
        self.assertEqual(rows["fcntl"][1:3], ["shared", "yes"])
        self.assertEqual(rows["seqlock"][1:3], ["shared, never wait", "yes"])
        self.assertEqual(rows["newlock"][1:3], ["exclusive", "no: MMS_EDEAD"])

    def test_caps_not_names_decide(self):
        self.assertEqual(card_rows(self.alt_md)["fcntl"][1:3], ["exclusive", "no: MMS_EDEAD"])

    def test_crash_run_column(self):
        rows = card_rows(self.md)
        self.assertEqual(rows["newlock"][3], "MMS_EDEAD (224 calls) after 32 kills, no hang")
        self.assertRegex(rows["mutex"][3], r"^32 kills, values whole, nothing lost; recovery")
        rows = card_rows(self.alt_md)
        self.assertIn("**but it declares crash-safe**", rows["mutex"][3])
        self.assertIn("**HUNG**", rows["seqlock"][3])
        self.assertIn("**FAILED**: 64 torn", rows["memfd"][3])

    def test_syscalls_and_figures(self):
        rows = card_rows(self.md)
        self.assertEqual(rows["fcntl"][4], "2 / 2")
        self.assertEqual(rows["newlock"][4], "1.5 / 0")
        self.assertEqual(rows["mutex"][4], "–")             # not in the counts: not made up
        self.assertIn("| fairness (Jain) at 2 · 4 | 1 worker: ops/s", self.md)
        self.assertEqual(rows["mutex"][6], "–")             # the fixture has no 1-worker run
        self.assertRegex(rows["mutex"][7], r"^[\d.]+ [kMG]? ?\(\d\.\d+\) · ")
        self.assertIn("`mmshare syscalls --json x`", self.md)

    def test_counter_unavailable_says_why(self):
        self.assertEqual(card_rows(self.alt_md)["newlock"][4], "–")
        self.assertIn("not counted on this machine: perf_event_open: Permission denied",
                      self.alt_md)

    def test_merge_keeps_syscalls(self):
        doc = card_fixture()
        sc = doc.pop("syscalls")
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, n) for n in ("bench.json", "syscalls.json", "out.json")]
            for path, part in zip(paths, (doc, sc)):
                with open(path, "w", encoding="utf-8") as fh:
                    json.dump(part, fh)
            proc = subprocess.run([sys.executable, MERGE, paths[2], *paths[:2]],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(paths[2], encoding="utf-8") as fh:
                merged = json.load(fh)
        self.assertEqual(merged["syscalls"], sc)
        self.assertEqual(len(merged["results"]), len(doc["results"]))


class Unusable(unittest.TestCase):
    """Each file must give exit 2 and a one-line message naming the problem, not a traceback."""

    CASES = {
        "not_json": ("ops: 12\n", "not JSON"),
        "empty": ("", "not JSON"),
        "array": ("[]", "expected a JSON object"),
        "wrong_schema": ('{"schema": "hyperfine", "results": [{}]}', "unknown schema"),
        "no_results": ('{"schema": "mmshare-bench/1", "results": []}', "no results"),
        "results_not_list": ('{"schema": "mmshare-bench/1", "results": {}}', "not an array"),
        "missing_field": ('{"schema": "mmshare-bench/1", "results": [{"backend": "mutex"}]}',
                          "results[0]: no \"mode\""),
        "wrong_type": ('{"schema": "mmshare-bench/1", "results": [{"backend": "mutex", "mode": '
                       '"raw", "procs": "two", "write_ratio": 10, "size": 64, '
                       '"ops_per_sec": 1}]}', "results[0].procs"),
        "bad_latency": ('{"schema": "mmshare-bench/1", "results": [{"backend": "mutex", "mode": '
                        '"raw", "procs": 2, "write_ratio": 10, "size": 64, "ops_per_sec": 1, '
                        '"latency_ns": {"get": {"p99": "slow", "count": 3}}}]}',
                        "latency_ns.get.p99"),
    }

    def test_unusable_files_exit_2(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name, (text, says) in self.CASES.items():
                with self.subTest(case=name):
                    src = os.path.join(tmp, name + ".json")
                    with open(src, "w", encoding="utf-8") as fh:
                        fh.write(text)
                    proc = run(src, os.path.join(tmp, "out-" + name))
                    self.assertEqual(proc.returncode, 2, proc.stderr)
                    self.assertNotIn("Traceback", proc.stderr)
                    self.assertIn(says, proc.stderr)
                    self.assertIn(name + ".json", proc.stderr)
                    self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)

    def test_missing_file_and_bad_usage(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = run(os.path.join(tmp, "gone.json"), tmp)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("cannot read", proc.stderr)
            self.assertNotIn("Traceback", proc.stderr)
        proc = run(FIXTURE)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage", proc.stderr)

    def test_unwritable_outdir(self):
        with tempfile.TemporaryDirectory() as tmp:
            blocker = os.path.join(tmp, "file")
            with open(blocker, "w", encoding="utf-8") as fh:
                fh.write("x")
            proc = run(FIXTURE, os.path.join(blocker, "out"))
            self.assertEqual(proc.returncode, 2)
            self.assertNotIn("Traceback", proc.stderr)


if __name__ == "__main__":
    unittest.main()
