#!/usr/bin/env bash
# Runs MinIO natively for tests on 127.0.0.1 and makes sure the test bucket exists.
#
#   minio.sh [start] [DIR]   start it, or reuse the one already answering on the port
#   minio.sh stop [DIR]      stop the one started with this DIR
#
# DIR (default .cache/services/minio) holds the data, pidfile and log.
# Overrides: MINIO_PORT (9000), MINIO_CONSOLE_PORT (9001), MINIO_ROOT_USER and
# MINIO_ROOT_PASSWORD (minioadmin), MINIO_BUCKET or TUSGATE_TEST_S3_BUCKET (tusgate-test).
# With no minio on PATH or in $(go env GOPATH)/bin it is built from source with
# `go install` (a few minutes the first time; the binary is cached afterwards).
#
# Tests then need:
#   TUSGATE_TEST_S3_ENDPOINT=http://127.0.0.1:9000 TUSGATE_TEST_S3_BUCKET=tusgate-test
#   AWS_ACCESS_KEY_ID=minioadmin AWS_SECRET_ACCESS_KEY=minioadmin AWS_REGION=us-east-1
set -euo pipefail

# A pseudo-version of MinIO's master (MinIO tags are not semver); it builds with Go 1.26.
MINIO_MODULE=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c

cmd=start
if [[ "${1:-}" == start || "${1:-}" == stop ]]; then
	cmd=$1
	shift
fi
dir=${1:-.cache/services/minio}
port=${MINIO_PORT:-9000}
console_port=${MINIO_CONSOLE_PORT:-9001}
user=${MINIO_ROOT_USER:-minioadmin}
password=${MINIO_ROOT_PASSWORD:-minioadmin}
bucket=${MINIO_BUCKET:-${TUSGATE_TEST_S3_BUCKET:-tusgate-test}}
endpoint="http://127.0.0.1:$port"

fail() {
	echo "minio.sh: $*" >&2
	if [[ -f "$dir/minio.log" ]]; then
		tail -n 20 "$dir/minio.log" >&2
	fi
	exit 1
}

live() {
	curl -fsS -o /dev/null --max-time 2 "$endpoint/minio/health/live" 2>/dev/null
}

minio_bin() {
	local gobin
	if command -v minio >/dev/null; then
		command -v minio
		return 0
	fi
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
	if [[ ! -x "$gobin/minio" ]]; then
		echo "minio.sh: building $MINIO_MODULE (first run only, takes minutes)" >&2
		GOFLAGS=-buildvcs=false go install "$MINIO_MODULE" </dev/null >&2 || fail "go install $MINIO_MODULE failed"
	fi
	echo "$gobin/minio"
}

# The bucket is created with curl's SigV4 signer so the mc client is not needed.
# 200 = created, 409 = it already exists (ours): both are fine. A server that
# is live but still initialising answers 503 for a while: retry for 30s.
make_bucket() {
	local code
	for _ in $(seq 1 300); do
		code=$(curl -sS -o "$dir/mkbucket.out" -w '%{http_code}' --max-time 10 -X PUT \
			--aws-sigv4 "aws:amz:us-east-1:s3" --user "$user:$password" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			"$endpoint/$bucket") || fail "cannot reach $endpoint to create bucket $bucket"
		case "$code" in
		200 | 409) return 0 ;;
		503) sleep 0.1 ;;
		*) fail "creating bucket $bucket answered HTTP $code: $(cat "$dir/mkbucket.out")" ;;
		esac
	done
	fail "creating bucket $bucket still answered HTTP $code after 30s: $(cat "$dir/mkbucket.out")"
}

start() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if ! live; then
		local bin
		bin=$(minio_bin)
		mkdir -p "$dir/data"
		# setsid: the server outlives this script and the shell that ran it.
		MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$password" \
			MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
			setsid "$bin" server --quiet --address "127.0.0.1:$port" \
			--console-address "127.0.0.1:$console_port" "$dir/data" \
			</dev/null >"$dir/minio.log" 2>&1 &
		echo $! >"$dir/minio.pid"
		local up=""
		for _ in $(seq 1 300); do
			if live; then
				up=1
				break
			fi
			kill -0 "$(cat "$dir/minio.pid")" 2>/dev/null || fail "minio exited during start"
			sleep 0.1
		done
		[[ -n "$up" ]] || fail "minio on $endpoint was not live within 30s"
	fi
	make_bucket
	echo "minio.sh: MinIO is up at $endpoint, bucket $bucket" >&2
}

stop() {
	[[ -d "$dir" ]] || return 0
	local pid=""
	[[ -f "$dir/minio.pid" ]] && pid=$(cat "$dir/minio.pid" 2>/dev/null || true)
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && fail "minio (pid $pid) did not stop within 10s"
	fi
	rm -f "$dir/minio.pid"
}

"$cmd"
