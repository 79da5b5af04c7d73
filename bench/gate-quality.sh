#!/usr/bin/env bash
# gate-quality.sh [TRIALS] -- measure the regression gate itself (README, "Quality of the gate"):
#   A/A: this build against itself, TRIALS times: the gate must pass every time;
#   A/B: against a build with -DMMS_PLANTED_SLOWDOWN (seqlock's get made ~25% slower): the gate
#        must fail every time and name seqlock.
# Every trial is a fresh interleaved run of bench/gate.py (A B A B ...) and a fresh compare.
set -uo pipefail
trials=${1:-20}
rounds=${ROUNDS:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/gate-quality
mkdir -p "$out"
make -C "$top" -s all >/dev/null
make -C "$top" -s BUILD=build/planted EXTRA_CPPFLAGS=-DMMS_PLANTED_SLOWDOWN build/planted/mmshare >/dev/null
# Private copies: a rebuild during the trials must not change what is measured.
cp "$top/build/mmshare" "$out/mmshare-a"
cp "$top/build/planted/mmshare" "$out/mmshare-b"
a=$out/mmshare-a
b=$out/mmshare-b

trial() { # NAME B-BINARY K -> prints "exit-status backends-named"
	local name=$1 other=$2 k=$3
	/usr/bin/python3 "$top/bench/gate.py" ab --a "$a" --b "$other" --rounds "$rounds" \
		--out-a "$out/$name-$k-a.json" --out-b "$out/$name-$k-b.json" 2>/dev/null
	"$a" compare "$out/$name-$k-a.json" "$out/$name-$k-b.json" > "$out/$name-$k.txt"
	echo "$? $(grep -o 'REGRESSION in [^:]*' "$out/$name-$k.txt" || true)"
}

aa_pass=0; ab_caught=0; ab_named=0
for k in $(seq 1 "$trials"); do
	read -r st rest <<<"$(trial aa "$a" "$k")"
	[ "$st" = 0 ] && aa_pass=$((aa_pass + 1))
	echo "A/A trial $k: exit $st $rest"
	read -r st rest <<<"$(trial ab "$b" "$k")"
	[ "$st" = 1 ] && ab_caught=$((ab_caught + 1))
	case "$rest" in *seqlock*) ab_named=$((ab_named + 1)) ;; esac
	echo "A/B trial $k: exit $st $rest"
done
echo "A/A: passed $aa_pass of $trials; A/B: flagged $ab_caught of $trials, seqlock named $ab_named of $trials"
