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

# shellcheck source=services/env.sh
source scripts/services/env.sh
if [[ -z "${SOAK_KEEP_SERVICES:-}" ]]; then
  trap services_stop EXIT
fi
services_start redis minio
services_export
export TUSGATE_SOAK="$duration" TUSGATE_SOAK_UPLOADS="$clients"
# The soak bounds itself (its duration, then three minutes for the last
# uploads); the go test timeout only catches a hang.
go test -count=1 -v -run '^TestSoak$' -timeout 3h ./test/fault/
