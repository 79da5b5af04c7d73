#!/usr/bin/env bash
# run.sh MMSHARE OUTDIR -- the main job: the sweep, the crash run, whole-process timings, the report.
# A correctness failure still gets its report written, then makes the job fail.
set -uo pipefail
mmshare=${1:?usage: run.sh MMSHARE OUTDIR}
out=${2:?usage: run.sh MMSHARE OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
failed=0

step() { printf '\n== %s\n' "$*" >&2; }

step "1/4 sweep: every backend and the bare loops, raw and tpl, with --check (a few minutes)"
"$mmshare" bench $(cat "$here/sweep.args") --json "$out/sweep.json" --csv "$out/bench.csv" || failed=1
step "2/4 crash run: workers SIGKILLed at random instants, with --check"
"$mmshare" bench $(cat "$here/crash.args") --json "$out/crash.json" || failed=1
step "2b/4 negative controls: none and stale must be caught by the checker"
"$mmshare" bench $(cat "$here/controls.args") --json "$out/controls.json" 2>/dev/null
case $? in
1) echo "both negative controls were caught, as they must be" >&2 ;;
*) echo "mmshare: a negative control was NOT caught: the checker is broken" >&2; failed=1 ;;
esac
step "3/4 whole-process timings with hyperfine (bench/scenarios)"
"$here/hyperfine.sh" "$mmshare" "$out/hyperfine.json" || failed=1
step "4/4 report"
/usr/bin/python3 "$here/merge.py" "$out/bench.json" "$out/sweep.json" "$out/crash.json" "$out/controls.json" || failed=1
/usr/bin/python3 "$here/../reports/report.py" "$out/bench.json" "$out" || failed=1
printf '\nreport: %s/report.md (plots and data beside it)\n' "$out"
[ "$failed" = 0 ] || echo "mmshare: some step failed or found a correctness failure: see above" >&2
exit "$failed"
