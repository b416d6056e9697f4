//go:build unix

package main

import "syscall"

// defaultMaxConnections leaves a quarter of the open-file limit for
// everything that is not a client connection (the state store, the
// backend's connections, data files). Go raises the soft limit to the hard
// limit at start-up, so this reads the limit the process really has.
func defaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1024
	}
	n := rl.Cur / 4 * 3
	if n > 1<<20 {
		n = 1 << 20
	}
	if n < 16 {
		n = 16
	}
	return int(n)
}
