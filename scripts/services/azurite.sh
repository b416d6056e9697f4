#!/usr/bin/env bash
# Runs Azurite's blob service natively for tests on 127.0.0.1.
#
#   azurite.sh [start] [DIR]   start it, or reuse the one already answering on the port
#   azurite.sh stop [DIR]      stop the one started with this DIR
#
# DIR (default .cache/services/azurite) holds the data, pidfile and log; data
# is kept on disk so a restart keeps staged blocks (tests restart it).
# Azurite comes from npm (azurite@3.37.0), installed once into
# AZURITE_NPM_PREFIX (default: DIR/../azurite-npm) and reused afterwards.
# AZURITE_BLOB_PORT (default 10000) picks the port.
#
# Tests then need (the well-known development account of Azurite):
#   TUSGATE_TEST_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;
#     AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;
#     BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;"
#   TUSGATE_TEST_AZURE_CONTAINER=tusgate-test (created by the tests if missing)
set -euo pipefail

AZURITE_PACKAGE=azurite@3.37.0

cmd=start
if [[ "${1:-}" == start || "${1:-}" == stop ]]; then
	cmd=$1
	shift
fi
dir=${1:-.cache/services/azurite}
port=${AZURITE_BLOB_PORT:-10000}
prefix=${AZURITE_NPM_PREFIX:-$(dirname "$dir")/azurite-npm}

fail() {
	echo "azurite.sh: $*" >&2
	if [[ -f "$dir/azurite.log" ]]; then
		tail -n 20 "$dir/azurite.log" >&2
	fi
	exit 1
}

# up: anything answering HTTP on the port (Azurite answers 400 to a bare GET).
up() {
	curl -sS -o /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null
}

azurite_bin() {
	local bin="$prefix/node_modules/.bin/azurite-blob"
	if [[ ! -x "$bin" ]]; then
		command -v npm >/dev/null || fail "npm not found (apt-get install nodejs npm)"
		echo "azurite.sh: installing $AZURITE_PACKAGE into $prefix (first run only)" >&2
		mkdir -p "$prefix"
		npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$AZURITE_PACKAGE" </dev/null >&2 ||
			fail "npm install $AZURITE_PACKAGE failed"
	fi
	echo "$bin"
}

start() {
	if up; then
		return 0 # already running on this port: reuse it
	fi
	local bin
	bin=$(azurite_bin)
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	# --skipApiVersionCheck: current SDKs send newer API versions than
	# Azurite knows. --loose: ignore headers Azurite does not implement.
	nohup "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" \
		--skipApiVersionCheck --loose --silent </dev/null >"$dir/azurite.log" 2>&1 &
	echo $! >"$dir/azurite.pid"
	for _ in $(seq 1 200); do
		up && return 0
		kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null || fail "azurite exited"
		sleep 0.1
	done
	fail "azurite on 127.0.0.1:$port did not answer within 20s"
}

stop() {
	[[ -f "$dir/azurite.pid" ]] || return 0
	local pid
	pid=$(cat "$dir/azurite.pid" 2>/dev/null || true)
	[[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
	# Azurite saves its metadata and reports "successfully closed" on
	# SIGTERM, but node does not always exit afterwards: once it has
	# closed, it is killed.
	for _ in $(seq 1 200); do
		if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/azurite.pid"
			return 0
		fi
		if grep -q "successfully closed" "$dir/azurite.log" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.1
	done
	fail "azurite (pid $pid) did not stop within 20s"
}

"$cmd"
