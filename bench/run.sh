#!/usr/bin/env bash
# run.sh MMSHARE OUTDIR -- the main job: timing runs, checked runs, crashes, peers, the report.
# Figures come from the unchecked timing runs only; the checked runs prove correctness.
# A correctness failure still gets its report written, then makes the job fail.
set -uo pipefail
mmshare=${1:?usage: run.sh MMSHARE OUTDIR}
out=${2:?usage: run.sh MMSHARE OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
# The redis backend needs a server: one of our own for the whole job (data on disk, fsync on
# every write, a 1 s lease), unless the caller named one.
if [ -z "${MMSHARE_REDIS:-}" ]; then
	exec "$here/redis.sh" run --lease 1000 -- "$0" "$@"
fi
mkdir -p "$out"
failed=0
started=$SECONDS

step() { printf '\n== [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*" >&2; }

step "1/7 timing runs: every backend and the bare loops, unchecked, grid repeated twice, interleaved (~8 min with eleven backends and redis)"
"$mmshare" bench $(cat "$here/timing.args") --json "$out/timing.json" --csv "$out/bench.csv" || failed=1
step "2/7 oversubscription: 8 and 16 workers on $(nproc) CPUs, unchecked (~30 s)"
"$mmshare" bench $(cat "$here/oversub.args") --json "$out/oversub.json" || failed=1
step "3/7 checked runs: the same grid with --check (~2 min; their throughput is not a figure)"
"$mmshare" bench $(cat "$here/checked.args") --json "$out/checked.json" --quiet || failed=1
step "4/7 crash run: workers SIGKILLed at random instants, with --check"
"$mmshare" bench $(cat "$here/crash.args") --json "$out/crash.json" || failed=1
step "4b/7 negative controls: none and stale must be caught by the checker"
"$mmshare" bench $(cat "$here/controls.args") --json "$out/controls.json" 2>/dev/null
case $? in
1) echo "both negative controls were caught, as they must be" >&2 ;;
*) echo "mmshare: a negative control was NOT caught: the checker is broken" >&2; failed=1 ;;
esac
step "4c/7 system calls per uncontended get, set and lock+unlock, counted by the kernel (<1 s)"
# A missing counter (no tracefs, not root) leaves the card's column empty with the reason; the
# job goes on, since it is the machine that cannot count, not mmshare that failed.
"$mmshare" syscalls --json "$out/syscalls.json" ||
	echo "mmshare: no system call counts on this machine (see above); the card says why" >&2
step "4d/7 redis faults, checked: the server SIGKILLed and restarted mid-run; lock holders stopped past their lease (~15 s)"
if [ -n "${MMSHARE_REDIS_DIR:-}" ]; then
	"$mmshare" bench --backend redis --procs 4 --write-ratio 50 --rmw 20 --size 256 --duration 4 \
		--warmup 0.05 --check --fault "$here/redis.sh kill $MMSHARE_REDIS_DIR && $here/redis.sh restart $MMSHARE_REDIS_DIR" \
		--json "$out/redis_fault.json" || failed=1
	"$mmshare" bench --backend redis --procs 4 --write-ratio 50 --rmw 60 --size 64 --duration 6 \
		--warmup 0.05 --check --stall 2 --stall-time 2.5 --json "$out/redis_stall.json" || failed=1
else
	echo "MMSHARE_REDIS names a server this job did not start: no server-crash run" >&2
	echo '{"schema": "mmshare-bench/1", "results": []}' > "$out/redis_fault.json"
	cp "$out/redis_fault.json" "$out/redis_stall.json"
fi
step "4e/7 the price of a server: redis over TCP loopback, and our get against redis-benchmark's (~1.5 min)"
"$here/redis-price.sh" "$mmshare" "$out" || failed=1
step "5/7 the Perl peers: IPC::ShareLite+Storable and Cache::FastMmap on the same workload (~10 s)"
perl "$here/peers.pl" --procs 1,2 --write-ratio 10,50 --size 64 --duration 1 --json "$out/peers.json" ||
	failed=1
step "6/7 whole-process timings with hyperfine (bench/scenarios; ~4.5 min, sysv's rmw scenario alone ~1 min)"
"$here/hyperfine.sh" "$mmshare" "$out/hyperfine.json" || failed=1
step "7/7 report"
/usr/bin/python3 "$here/merge.py" "$out/bench.json" "$out/timing.json" "$out/oversub.json" \
	"$out/checked.json" "$out/crash.json" "$out/controls.json" "$out/syscalls.json" \
	"$out/redis_fault.json" "$out/redis_stall.json" "$out/redis_tcp.json" || failed=1
/usr/bin/python3 "$here/../reports/report.py" "$out/bench.json" "$out" || failed=1
printf '\nreport: %s/report.md (plots and data beside it), in %dm%02ds\n' "$out" \
	$(((SECONDS - started) / 60)) $(((SECONDS - started) % 60))
[ "$failed" = 0 ] || echo "mmshare: some step failed or found a correctness failure: see above" >&2
exit "$failed"
