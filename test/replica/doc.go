// Package replica holds the multi-replica end-to-end tests: several tusgate
// processes share one Redis state store and one file directory, and a test
// moves an upload between them, kills, pauses or races them, and stops or
// cuts off Redis under them. The processes come from the harness in test/e2e.
//
// The shared Redis comes from TUSGATE_TEST_REDIS_URL (database 7 is used and
// flushed by each test); tests that stop Redis start their own server.
package replica
