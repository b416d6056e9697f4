#!/usr/bin/env bash
# The soak: N clients upload for a while through three tusgate replicas on
# Redis + S3 (MinIO), while replicas are SIGKILLed and SIGSTOPped, Redis is
# restarted and stopped, MinIO restarted and client connections cut,
# throttled and stalled (toxiproxy) at random, then prints a summary (uploads, bytes,
# faults by kind, resume times, corrupted, leaked objects, peak RSS) and
# fails unless every upload finished intact and nothing leaked. Traffic
# stays on loopback. Starts Redis and MinIO like scripts/test.sh.
#
#   scripts/soak.sh [DURATION [CLIENTS]]     default 20m and 8
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
services="${SERVICES_DIR:-$root/.cache/services}"
export PATH="$(go env GOPATH)/bin:$PATH"
duration=${1:-20m}
clients=${2:-8}

stop_services() {
  bash scripts/services/redis.sh stop "$services/redis" >/dev/null 2>&1 || true
  bash scripts/services/minio.sh stop "$services/minio" >/dev/null 2>&1 || true
}
if [[ -z "${SOAK_KEEP_SERVICES:-}" ]]; then
  trap stop_services EXIT
fi
bash scripts/services/redis.sh "$services/redis"
bash scripts/services/minio.sh "$services/minio"
export TUSGATE_REQUIRE_SERVICES=1
export TUSGATE_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6390}/0"
export TUSGATE_TEST_S3_ENDPOINT="http://127.0.0.1:${MINIO_PORT:-9000}"
export TUSGATE_TEST_S3_BUCKET="${MINIO_BUCKET:-tusgate-test}"
export AWS_ACCESS_KEY_ID="${MINIO_ROOT_USER:-minioadmin}"
export AWS_SECRET_ACCESS_KEY="${MINIO_ROOT_PASSWORD:-minioadmin}"
export AWS_REGION=us-east-1
export TUSGATE_SOAK="$duration" TUSGATE_SOAK_UPLOADS="$clients"
# The soak bounds itself (its duration, then three minutes for the last
# uploads); the go test timeout only catches a hang.
go test -count=1 -v -run '^TestSoak$' -timeout 3h ./test/fault/
