#!/usr/bin/env bash
# hyperfine.sh MMSHARE OUT.json [RUNS] -- time every fixed-work scenario (bench/scenarios/*.args,
# a fixed number of operations per worker) for every safe backend, as whole processes.
set -euo pipefail
mmshare=${1:?usage: hyperfine.sh MMSHARE OUT.json [RUNS]}
out=${2:?usage: hyperfine.sh MMSHARE OUT.json [RUNS]}
runs=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)

# Not the negative controls; not a server backend (its price is bench/redis-price.sh's: a fixed
# 400,000 operations at tens of microseconds each would take minutes per scenario).
backends=$("$mmshare" list | awk '$0 !~ /UNSAFE/ && $2 !~ /server/ && $3 !~ /server/ && $4 !~ /server/ { print $1 }')
cmds=()
for scenario in "$here"/scenarios/*.args; do
	name=$(basename "$scenario" .args)
	for b in $backends; do
		cmds+=(-n "$name/$b" "$mmshare bench --backend $b $(cat "$scenario") --warmup 0 --quiet")
	done
done
hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$out" \
	--export-markdown "${out%.json}.md" "${cmds[@]}"
