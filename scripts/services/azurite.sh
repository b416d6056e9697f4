#!/usr/bin/env bash
# Runs Azurite's blob service natively for tests on 127.0.0.1.
#
#   azurite.sh [start] [DIR]   start it, or reuse the one already answering on the port
#   azurite.sh stop [DIR]      stop the one started with this DIR
#
# DIR (default .cache/services/azurite) holds the data, pidfile and log; data
# is kept on disk so a restart keeps staged blocks (tests restart it).
# Azurite comes from npm (azurite@3.37.0), installed once into
# AZURITE_NPM_PREFIX (default: DIR/../azurite-npm) and reused afterwards; an
# install that is incomplete (an npm killed midway) is redone from scratch.
# AZURITE_BLOB_PORT (default 10000) picks the port.
#
# Tests then need (the well-known development account of Azurite):
#   TUSGATE_TEST_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;
#     AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;
#     BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;"
#   TUSGATE_TEST_AZURE_CONTAINER=tusgate-test (created by the tests if missing)
set -euo pipefail

AZURITE_PACKAGE=azurite@3.37.0

name=azurite
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
svc_args "$@"
port=${AZURITE_BLOB_PORT:-10000}
prefix=${AZURITE_NPM_PREFIX:-$(dirname "$dir")/azurite-npm}

# up: anything answering HTTP on the port (Azurite answers 400 to a bare GET).
up() {
	curl -sS -o /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null
}

# usable: the install in the prefix is complete. An npm install killed midway
# leaves a half-written node_modules (the next install then fails with
# ENOTEMPTY); the marker is written only after one finished, and the binary
# must still run.
usable() {
	[[ "$(cat "$prefix/.installed" 2>/dev/null)" == "$AZURITE_PACKAGE" ]] &&
		[[ -x "$prefix/node_modules/.bin/azurite-blob" ]] &&
		"$prefix/node_modules/.bin/azurite-blob" --version </dev/null >/dev/null 2>&1
}

# install: npm installs into a scratch directory beside the prefix, which
# replaces the prefix only when complete, so an interrupted install never
# leaves the prefix half-written. flock keeps two scripts from installing at
# once (tests start private Azurites sharing the prefix).
install() {
	command -v npm >/dev/null || fail "npm not found (apt-get install nodejs npm)"
	mkdir -p "$(dirname "$prefix")"
	exec 9>"$prefix.lock"
	flock 9
	if ! usable; then
		echo "azurite.sh: installing $AZURITE_PACKAGE into $prefix" >&2
		local scratch="$prefix.partial"
		rm -rf "$scratch"
		mkdir -p "$scratch"
		npm install --prefix "$scratch" --no-audit --no-fund --loglevel=error "$AZURITE_PACKAGE" </dev/null >&2 ||
			fail "npm install $AZURITE_PACKAGE failed"
		echo "$AZURITE_PACKAGE" >"$scratch/.installed"
		rm -rf "$prefix"
		mv "$scratch" "$prefix"
		usable || fail "$AZURITE_PACKAGE installed into $prefix does not run"
	fi
	flock -u 9
	exec 9>&-
}

azurite_bin() {
	usable || install
	echo "$prefix/node_modules/.bin/azurite-blob"
}

start() {
	if up; then
		return 0 # already running on this port: reuse it
	fi
	local bin
	bin=$(azurite_bin)
	svc_absdir
	mkdir -p "$dir/data"
	# --skipApiVersionCheck: current SDKs send newer API versions than
	# Azurite knows. --loose: ignore headers Azurite does not implement.
	svc_launch "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" \
		--skipApiVersionCheck --loose --silent
	svc_await up 20 "azurite on 127.0.0.1:$port"
}

# Azurite saves its metadata and reports "successfully closed" on SIGTERM, but
# node does not always exit afterwards: once it has closed, it is killed.
kill_when_closed() {
	if grep -q "successfully closed" "$log" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null || true
	fi
}

stop() { svc_stop 20 azurite kill_when_closed; }

"$cmd"
