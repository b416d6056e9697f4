#!/usr/bin/env bash
# Runs a redis-server for tests on 127.0.0.1 with AOF on (appendfsync always),
# so a restart keeps every acknowledged write.
#
#   redis.sh [start] [DIR]   start it, or reuse the one already answering on the port
#   redis.sh stop [DIR]      stop it (SHUTDOWN flushes the AOF first)
#
# DIR (default .cache/services/redis) holds the data, pidfile and log.
# REDIS_PORT (default 6390) picks the port.
# For tests of the other topologies (used by test/testenv):
#   REDIS_CLUSTER=1                 start the node in cluster mode
#   REDIS_SENTINEL_MASTER=HOST:PORT start a sentinel watching that master as "mymaster"
set -euo pipefail

name=redis
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
svc_args "$@"
port=${REDIS_PORT:-6390}

ping() {
	[[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == PONG ]]
}

install_redis() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
	local sudo=()
	[[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
	echo "redis.sh: installing redis-server with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null >/dev/null
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server </dev/null >/dev/null
}

start() {
	install_redis
	if ping; then
		return 0 # already running on this port: reuse it
	fi
	svc_absdir
	if [[ -n "${REDIS_SENTINEL_MASTER:-}" ]]; then
		# A sentinel rewrites its config file, so it gets its own.
		cat >"$dir/sentinel.conf" <<-CONF
			bind 127.0.0.1
			port $port
			daemonize yes
			dir $dir
			pidfile $pidfile
			logfile $log
			sentinel monitor mymaster ${REDIS_SENTINEL_MASTER%:*} ${REDIS_SENTINEL_MASTER##*:} 1
		CONF
		redis-server "$dir/sentinel.conf" --sentinel </dev/null >/dev/null ||
			fail "redis-server --sentinel did not start"
	else
		local cluster=()
		if [[ "${REDIS_CLUSTER:-}" == 1 ]]; then
			cluster=(--cluster-enabled yes --cluster-config-file nodes.conf)
		fi
		# --save "": the AOF alone is the durable copy; no background RDB forks.
		redis-server \
			--bind 127.0.0.1 --port "$port" --protected-mode yes \
			--daemonize yes --dir "$dir" \
			--pidfile "$pidfile" --logfile "$log" \
			--appendonly yes --appendfsync always --save "" \
			"${cluster[@]}" </dev/null >/dev/null || fail "redis-server did not start"
	fi
	for _ in $(seq 1 100); do
		ping && return 0
		sleep 0.1
	done
	fail "redis-server on 127.0.0.1:$port did not answer ping within 10s"
}

stop() {
	command -v redis-cli >/dev/null || return 0
	if ping; then
		redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
	fi
	local pid=""
	[[ -f "$pidfile" ]] && pid=$(cat "$pidfile" 2>/dev/null || true)
	for _ in $(seq 1 100); do
		if ! ping && { [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; }; then
			return 0
		fi
		sleep 0.1
	done
	fail "redis-server on 127.0.0.1:$port did not stop within 10s"
}

"$cmd"
