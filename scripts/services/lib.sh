# Shared by the service scripts (sourced, not run): argument parsing, failure
# reports, starting a server in the background, waiting for it and stopping it
# by its pidfile. A script sets `name` (its log and pidfile are DIR/NAME.log and
# DIR/NAME.pid) and calls svc_args "$@" before anything else.

# svc_args [start|stop] [DIR]: sets cmd and dir.
svc_args() {
	cmd=start
	if [[ "${1:-}" == start || "${1:-}" == stop ]]; then
		cmd=$1
		shift
	fi
	dir=${1:-.cache/services/$name}
	log="$dir/$name.log"
	pidfile="$dir/$name.pid"
}

# fail MESSAGE: reports, with the end of the server's log, and exits.
fail() {
	echo "$name.sh: $*" >&2
	if [[ -f "$log" ]]; then
		tail -n 20 "$log" >&2
	fi
	exit 1
}

# svc_absdir: creates DIR and makes it (and the log and pidfile) absolute, so
# a server started from here finds its files whatever its working directory.
svc_absdir() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	log="$dir/$name.log"
	pidfile="$dir/$name.pid"
}

# svc_go_bin BINARY MODULE: the binary on PATH, else in $(go env GOPATH)/bin,
# installed there from MODULE with go install the first time.
svc_go_bin() {
	local bin=$1 module=$2 gobin
	if command -v "$bin" >/dev/null; then
		command -v "$bin"
		return 0
	fi
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
	if [[ ! -x "$gobin/$bin" ]]; then
		echo "$name.sh: installing $module with go install (first run only; a large module takes minutes)" >&2
		GOFLAGS=-buildvcs=false go install "$module" </dev/null >&2 || fail "go install $module failed"
	fi
	echo "$gobin/$bin"
}

# svc_launch COMMAND...: runs the server in its own session (it outlives this
# script and the shell that ran it), output to the log, pid to the pidfile.
svc_launch() {
	setsid "$@" </dev/null >"$log" 2>&1 &
	echo $! >"$pidfile"
}

# svc_await CHECK SECONDS WHAT: waits until CHECK succeeds; fails when the
# launched server exits first or SECONDS pass.
svc_await() {
	local check=$1 seconds=$2 what=$3
	for _ in $(seq 1 $((seconds * 10))); do
		"$check" && return 0
		kill -0 "$(cat "$pidfile")" 2>/dev/null || fail "$what exited during start"
		sleep 0.1
	done
	fail "$what did not answer within ${seconds}s"
}

# svc_stop SECONDS WHAT [WHILE_WAITING]: stops the server of the pidfile with
# SIGTERM and waits until it has exited; WHILE_WAITING (a function given the
# pid) runs on each poll, for servers that need more than SIGTERM.
svc_stop() {
	local seconds=$1 what=$2 poll=${3:-} pid=""
	[[ -d "$dir" ]] || return 0
	[[ -f "$pidfile" ]] && pid=$(cat "$pidfile" 2>/dev/null || true)
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 $((seconds * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			[[ -z "$poll" ]] || "$poll" "$pid"
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && fail "$what (pid $pid) did not stop within ${seconds}s"
	fi
	rm -f "$pidfile"
}
