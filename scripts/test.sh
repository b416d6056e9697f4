#!/usr/bin/env bash
# The whole test suite, from a clean Debian machine with Go: installs and
# starts the services the tests need (redis-server, MinIO, Azurite, fake-gcs-server) on loopback, runs
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
# Headless Chromium for the operator page's browser test (ui/).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if ! command -v staticcheck >/dev/null 2>&1; then
  step "installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

# The client tests (test/cli) also run against tusd, as bench.sh does.
if [ -z "${TUSGATE_TEST_TUSD:-}" ] && ! command -v tusd >/dev/null 2>&1; then
  step "installing tusd v2.9.1"
  GOFLAGS=-buildvcs=false go install github.com/tus/tusd/v2/cmd/tusd@v2.9.1
fi

# Helm for the chart checks in deploy/ (lint, template; no cluster needed),
# built once from the Go module proxy and kept beside the other Go tools.
helm_version=v3.22.0
export TUSGATE_HELM="$(go env GOPATH)/tools/helm-$helm_version/helm"
if [ ! -x "$TUSGATE_HELM" ]; then
  step "building helm $helm_version"
  GOBIN="$(dirname "$TUSGATE_HELM")" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
fi

# shellcheck source=services/env.sh
source scripts/services/env.sh
trap services_stop EXIT

step "starting redis-server, MinIO, Azurite and fake-gcs-server on loopback"
services_start redis minio azurite gcs
services_export

step "gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...

step "ui bundle: rebuilding ui/web reproduces the committed ui/dist"
(cd ui/web && npm ci --no-audit --no-fund --silent && npm run --silent build >/dev/null 2>&1)
if ! git diff --quiet -- ui/dist 2>/dev/null; then
  echo "ui/dist differs from a build of ui/web; run: (cd ui/web && npm ci && npm run build) and commit ui/dist"
  git diff --stat -- ui/dist; exit 1
fi

step "go test (all packages, real services)"
go test -count=1 -timeout 20m ./...

step "go test -race (state stores, locks, buffer pool, gateway)"
go test -race -count=1 -timeout 10m ./state/... ./backends/bufpool/ ./gateway/

step "short soak: 60 s of uploads through three replicas under random faults"
# A short run of scripts/soak.sh's test (the 20-minute figures are in the README).
TUSGATE_SOAK="${SOAK:-60s}" TUSGATE_SOAK_UPLOADS=6 go test -count=1 -v -run '^TestSoak$' -timeout 15m ./test/fault/

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
