#!/bin/bash
# redis.sh -- a redis-server of our own for the tests, conform and make bench: a temporary
# directory, a unix socket and a free loopback port, appendonly with fsync on every write.
#
#   bench/redis.sh run [--lease MS] [--tmpfs] -- COMMAND [ARGS...]
#       start a server (its data in /tmp, or with --tmpfs in /dev/shm, where fsync costs nothing), run COMMAND with MMSHARE_REDIS (the unix socket), MMSHARE_REDIS_TCP (the
#       loopback port) and MMSHARE_REDIS_DIR set, stop the server, exit with COMMAND's status
#   bench/redis.sh start DIR [LEASE_MS]   start one in DIR (made if missing); prints the two URLs
#   bench/redis.sh stop DIR               SHUTDOWN NOSAVE, wait for the process to end
#   bench/redis.sh kill DIR               SIGKILL it (the crash test), wait for it to end
#   bench/redis.sh restart DIR            start it again on DIR's config and data (after kill)
#
# Nothing leaves this machine: the server listens on 127.0.0.1 and a socket in DIR only.
set -euo pipefail

die() { echo "redis.sh: $*" >&2; exit 2; }
command -v redis-server >/dev/null || die "redis-server is not installed (make installs it: apt-get install -y redis-server)"

sock() { echo "$1/redis.sock"; }

# Wait until the server in $1 answers PING (readiness, bounded: 10 s), or fail with its log.
ready() {
	local dir=$1 i
	for i in $(seq 200); do
		[ "$(redis-cli -s "$(sock "$dir")" ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$(cat "$dir/redis.pid.run")" 2>/dev/null || break
		sleep 0.05
	done
	tail -5 "$dir/redis.log" >&2 || true
	return 1
}

launch() {
	local dir=$1
	redis-server "$dir/redis.conf" >/dev/null 2>&1 &
	echo $! > "$dir/redis.pid.run"
	ready "$dir"
}

urls() {
	local dir=$1 lease=$2
	echo "MMSHARE_REDIS=unix:$(sock "$dir")/mmshare?lease=$lease"
	echo "MMSHARE_REDIS_TCP=redis://127.0.0.1:$(cat "$dir/port")/mmshare?lease=$lease"
}

start() {
	local dir=$1 lease=${2:-1000} port try
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 40000))
		if command -v ss >/dev/null && [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			continue
		fi
		cat > "$dir/redis.conf" <<-EOF
		bind 127.0.0.1
		port $port
		unixsocket $(sock "$dir")
		unixsocketperm 700
		dir $dir
		logfile $dir/redis.log
		appendonly yes
		appendfsync always
		save ""
		daemonize no
		EOF
		echo "$port" > "$dir/port"
		if launch "$dir"; then
			urls "$dir" "$lease"
			return 0
		fi
	done
	die "could not start redis-server in $dir (see $dir/redis.log)"
}

# Wait for pid to end; a zombie has ended (whoever inherited it may reap it late).
wait_gone() {
	local pid=$1 state
	while kill -0 "$pid" 2>/dev/null; do
		state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null || echo Z)
		[ "$state" = Z ] && return 0
		sleep 0.01
	done
}

stop() {
	local dir=$1 pid
	[ -f "$dir/redis.pid.run" ] || return 0
	pid=$(cat "$dir/redis.pid.run")
	redis-cli -s "$(sock "$dir")" shutdown nosave >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
	wait_gone "$pid"
	rm -f "$dir/redis.pid.run"
}

case "${1:-}" in
run)
	shift
	lease=1000 base=/tmp
	while [ $# -gt 0 ]; do
		case $1 in
		--lease) lease=$2; shift 2 ;;
		--tmpfs) base=/dev/shm; shift ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || die "usage: redis.sh run [--lease MS] [--tmpfs] -- COMMAND..."
	dir=$(mktemp -d "$base/mmshare-redis.XXXXXX")
	trap 'stop "$dir"; rm -rf "$dir"' EXIT
	while IFS= read -r line; do export "${line?}"; done < <(start "$dir" "$lease")
	export MMSHARE_REDIS_DIR=$dir
	set +e
	"$@"
	status=$?
	set -e
	exit $status
	;;
start)   [ $# -ge 2 ] || die "usage: redis.sh start DIR [LEASE_MS]"; start "$2" "${3:-1000}" ;;
stop)    [ $# -eq 2 ] || die "usage: redis.sh stop DIR"; stop "$2" ;;
kill)    [ $# -eq 2 ] || die "usage: redis.sh kill DIR"
	 pid=$(cat "$2/redis.pid.run"); kill -9 "$pid"; wait_gone "$pid" ;;
restart) [ $# -eq 2 ] || die "usage: redis.sh restart DIR"; launch "$2" || die "restart failed" ;;
*) die "usage: redis.sh run|start|stop|kill|restart ... (see the top of this file)" ;;
esac
