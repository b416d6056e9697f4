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

name=minio
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
svc_args "$@"
port=${MINIO_PORT:-9000}
console_port=${MINIO_CONSOLE_PORT:-9001}
user=${MINIO_ROOT_USER:-minioadmin}
password=${MINIO_ROOT_PASSWORD:-minioadmin}
bucket=${MINIO_BUCKET:-${TUSGATE_TEST_S3_BUCKET:-tusgate-test}}
endpoint="http://127.0.0.1:$port"

live() {
	curl -fsS -o /dev/null --max-time 2 "$endpoint/minio/health/live" 2>/dev/null
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
	svc_absdir
	if ! live; then
		local bin
		bin=$(svc_go_bin minio "$MINIO_MODULE")
		mkdir -p "$dir/data"
		MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$password" \
			MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
			svc_launch "$bin" server --quiet --address "127.0.0.1:$port" \
			--console-address "127.0.0.1:$console_port" "$dir/data"
		svc_await live 30 "minio on $endpoint"
	fi
	make_bucket
	echo "minio.sh: MinIO is up at $endpoint, bucket $bucket" >&2
}

stop() { svc_stop 10 minio; }

"$cmd"
