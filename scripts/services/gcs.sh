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

name=gcs
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
svc_args "$@"
port=${GCS_PORT:-4443}
bucket=${GCS_BUCKET:-${TUSGATE_TEST_GCS_BUCKET:-tusgate-test}}
endpoint="http://127.0.0.1:$port"

up() {
	curl -fsS -o /dev/null --max-time 2 "$endpoint/storage/v1/b?project=test" 2>/dev/null
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
	svc_absdir
	if ! up; then
		local bin
		bin=$(svc_go_bin fake-gcs-server "$GCS_MODULE")
		mkdir -p "$dir/data"
		# -public-host: the SDK reads objects by the emulator's address
		# (XML API paths), which the server only routes for its public host.
		svc_launch "$bin" -scheme http -host 127.0.0.1 -port "$port" -public-host "127.0.0.1:$port" \
			-external-url "$endpoint" -backend filesystem -filesystem-root "$dir/data" -log-level warn
		svc_await up 20 "fake-gcs-server on $endpoint"
	fi
	make_bucket
	echo "gcs.sh: fake-gcs-server is up at $endpoint, bucket $bucket" >&2
}

stop() { svc_stop 10 fake-gcs-server; }

"$cmd"
