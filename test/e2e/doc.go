// Package e2e runs the real tusgate binary and talks to it over HTTP: crash
// and restart tests, start-up and configuration tests, and the tus-js-client
// end-to-end test in test/js.
//
// The harness (Start, Proc, Run and the tus request helpers) is meant for
// every end-to-end test in this package, including multi-replica tests: a
// test starts as many processes as it needs, each with its own flags and
// environment. TestMain builds the binary once per `go test` run; set
// TUSGATE_TEST_BINARY to use a binary built elsewhere instead.
package e2e
