#!/usr/bin/env bash
# hyperfine.sh MMSHARE OUT.json [RUNS] -- time every fixed-work scenario (bench/scenarios/*.args,
# a fixed number of operations per worker) for every safe backend, as whole processes.
set -euo pipefail
mmshare=${1:?usage: hyperfine.sh MMSHARE OUT.json [RUNS]}
out=${2:?usage: hyperfine.sh MMSHARE OUT.json [RUNS]}
runs=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)

backends=$("$mmshare" list | awk '$0 !~ /UNSAFE/ { print $1 }')
cmds=()
for scenario in "$here"/scenarios/*.args; do
	name=$(basename "$scenario" .args)
	for b in $backends; do
		cmds+=(-n "$name/$b" "$mmshare bench --backend $b $(cat "$scenario") --warmup 0 --quiet")
	done
done
hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$out" \
	--export-markdown "${out%.json}.md" "${cmds[@]}"
