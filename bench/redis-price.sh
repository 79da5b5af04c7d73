#!/usr/bin/env bash
# redis-price.sh MMSHARE OUTDIR -- what leaving shared memory costs, on this machine, in one run:
#   redis_tcp.json    the redis backend over TCP loopback, at the card's points (as "redis-tcp");
#                     the unix-socket runs are in the main sweep, as "redis"
#   redis_price.json  our redis get against redis-benchmark's GET (-P 1) on the same server, at
#                     1 and 4 clients, interleaved rounds: the issue's target is >= 0.8x
# Needs the server bench/redis.sh started (MMSHARE_REDIS, MMSHARE_REDIS_TCP set).
set -euo pipefail
mmshare=${1:?usage: redis-price.sh MMSHARE OUTDIR}
out=${2:?usage: redis-price.sh MMSHARE OUTDIR}
: "${MMSHARE_REDIS:?start a server first: bench/redis.sh run -- $0 ...}"
: "${MMSHARE_REDIS_TCP:?start a server first: bench/redis.sh run -- $0 ...}"
rounds=${REDIS_PRICE_ROUNDS:-3}

sock=${MMSHARE_REDIS#unix:}
sock=${sock%/*}

# The TCP runs, at the card's points: 64 B, 0 and 10% writes, 1 to 16 workers.
MMSHARE_REDIS=$MMSHARE_REDIS_TCP "$mmshare" bench --backend redis --procs 1,2,4,8,16 \
	--write-ratio 0,10 --size 64 --duration 0.2 --max-duration 0.5 --ci 2 --warmup 0.05 \
	--repeat 2 --json "$out/redis_tcp.raw.json" --quiet
/usr/bin/python3 - "$out/redis_tcp.raw.json" "$out/redis_tcp.json" <<-'EOF'
	import json, sys
	doc = json.load(open(sys.argv[1]))
	for r in doc["results"]:
	    r["backend"] = "redis-tcp"
	    r["note"] = "the redis backend over TCP loopback (MMSHARE_REDIS=redis://127.0.0.1:PORT/...)"
	json.dump(doc, open(sys.argv[2], "w"), indent=1)
	EOF
rm -f "$out/redis_tcp.raw.json"

# redis-benchmark reads a key that holds a value as large as ours (64 B and our 32 B header).
value=$(head -c 96 /dev/zero | tr '\0' x)
redis-cli -s "$sock" set key:__rand_int__ "$value" >/dev/null
redis-cli -s "$sock" set key:000000000000 "$value" >/dev/null

their_rate() { # CLIENTS: GET requests per second, redis-benchmark -P 1 on the unix socket
	redis-benchmark -s "$sock" -c "$1" -P 1 -t get -n $((60000 * $1)) --csv 2>/dev/null |
		awk -F'"' '/^"GET"/ { print $4 }'
}
our_rate() { # PROCS: our get-only ops/s, an unchecked timing run of 1 s
	"$mmshare" bench --backend redis --procs "$1" --write-ratio 0 --size 64 --duration 1 \
		--warmup 0.1 --json "$out/redis_price.run.json" --quiet
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["ops_per_sec"])' \
		"$out/redis_price.run.json"
}

rows=()
for round in $(seq "$rounds"); do
	for c in 1 4; do
		theirs=$(their_rate "$c")
		ours=$(our_rate "$c")
		rows+=("$round $c $theirs $ours")
		echo "redis price, round $round, $c client(s): redis-benchmark GET $theirs/s, our get $ours/s" >&2
	done
done
rm -f "$out/redis_price.run.json"
printf '%s\n' "${rows[@]}" | /usr/bin/python3 -c '
import json, statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
out = {"schema": "mmshare-redis-price/1", "server": sys.argv[2],
       "command": "bench/redis-price.sh: redis-benchmark -s SOCK -c N -P 1 -t get, then mmshare "
                  "bench --backend redis --procs N --write-ratio 0 --size 64 --duration 1, "
                  "alternating, on the same server",
       "rounds": [{"round": int(r), "clients": int(c), "redis_benchmark_get": float(t),
                   "ours_get": float(o), "ratio": float(o) / float(t)} for r, c, t, o in rows]}
out["median_ratio"] = {str(c): statistics.median(x["ratio"] for x in out["rounds"] if x["clients"] == c)
                       for c in (1, 4)}
json.dump(out, open(sys.argv[1], "w"), indent=1)
print("redis price: median ratio our get / redis-benchmark GET:", out["median_ratio"], file=sys.stderr)
' "$out/redis_price.json" "$(redis-server --version | head -1)"
