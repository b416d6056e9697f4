#!/usr/bin/env bash
# Runs fake-gcs-server (a Google Cloud Storage emulator) natively for tests
# on 127.0.0.1 and makes sure the test bucket exists.
#
#   gcs.sh [start] [DIR]   start it, or reuse the one already answering on the port
#   gcs.sh stop [DIR]      stop the one started with this DIR
#
# DIR (default .cache/services/gcs) holds the data (filesystem backend, so a
# restart keeps objects and the emulator's memory stays small), pidfile and
# log. fake-gcs-server comes from the Go module proxy
# (github.com/fsouza/fake-gcs-server@v1.56.1), installed once into
# $(go env GOPATH)/bin. Overrides: GCS_PORT (4443), GCS_BUCKET or
# TUSGATE_TEST_GCS_BUCKET (tusgate-test).
#
# Tests then need:
#   STORAGE_EMULATOR_HOST=127.0.0.1:$GCS_PORT TUSGATE_TEST_GCS_BUCKET=tusgate-test
set -euo pipefail

GCS_MODULE=github.com/fsouza/fake-gcs-server@v1.56.1

cmd=start
if [[ "${1:-}" == start || "${1:-}" == stop ]]; then
	cmd=$1
	shift
fi
dir=${1:-.cache/services/gcs}
port=${GCS_PORT:-4443}
bucket=${GCS_BUCKET:-${TUSGATE_TEST_GCS_BUCKET:-tusgate-test}}
endpoint="http://127.0.0.1:$port"

fail() {
	echo "gcs.sh: $*" >&2
	if [[ -f "$dir/gcs.log" ]]; then
		tail -n 20 "$dir/gcs.log" >&2
	fi
	exit 1
}

up() {
	curl -fsS -o /dev/null --max-time 2 "$endpoint/storage/v1/b?project=test" 2>/dev/null
}

gcs_bin() {
	local gobin
	if command -v fake-gcs-server >/dev/null; then
		command -v fake-gcs-server
		return 0
	fi
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
	if [[ ! -x "$gobin/fake-gcs-server" ]]; then
		echo "gcs.sh: installing $GCS_MODULE (first run only)" >&2
		GOFLAGS=-buildvcs=false go install "$GCS_MODULE" </dev/null >&2 || fail "go install $GCS_MODULE failed"
	fi
	echo "$gobin/fake-gcs-server"
}

# 200 = created, 409 = it already exists: both are fine.
make_bucket() {
	local code
	code=$(curl -sS -o "$dir/mkbucket.out" -w '%{http_code}' --max-time 10 -X POST \
		-H 'Content-Type: application/json' -d "{\"name\":\"$bucket\"}" \
		"$endpoint/storage/v1/b?project=test") || fail "cannot reach $endpoint to create bucket $bucket"
	case "$code" in
	200 | 409) ;;
	*) fail "creating bucket $bucket answered HTTP $code: $(cat "$dir/mkbucket.out")" ;;
	esac
}

start() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if ! up; then
		local bin
		bin=$(gcs_bin)
		mkdir -p "$dir/data"
		# -public-host: the SDK reads objects by the emulator's address
		# (XML API paths), which the server only routes for its public host.
		setsid "$bin" -scheme http -host 127.0.0.1 -port "$port" -public-host "127.0.0.1:$port" \
			-external-url "$endpoint" -backend filesystem -filesystem-root "$dir/data" -log-level warn \
			</dev/null >"$dir/gcs.log" 2>&1 &
		echo $! >"$dir/gcs.pid"
		local ok=""
		for _ in $(seq 1 200); do
			if up; then
				ok=1
				break
			fi
			kill -0 "$(cat "$dir/gcs.pid")" 2>/dev/null || fail "fake-gcs-server exited during start"
			sleep 0.1
		done
		[[ -n "$ok" ]] || fail "fake-gcs-server on $endpoint did not answer within 20s"
	fi
	make_bucket
	echo "gcs.sh: fake-gcs-server is up at $endpoint, bucket $bucket" >&2
}

stop() {
	[[ -d "$dir" ]] || return 0
	local pid=""
	[[ -f "$dir/gcs.pid" ]] && pid=$(cat "$dir/gcs.pid" 2>/dev/null || true)
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && fail "fake-gcs-server (pid $pid) did not stop within 10s"
	fi
	rm -f "$dir/gcs.pid"
}

"$cmd"
