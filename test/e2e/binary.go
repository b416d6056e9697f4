package e2e

// Binary is the path of the tusgate binary Main built, for tests that run
// its client subcommands themselves.
func Binary() string { return binaryPath }
