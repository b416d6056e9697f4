//go:build !unix

package main

// defaultMaxConnections is a fixed cap where the open-file limit cannot be read.
func defaultMaxConnections() int { return 1024 }
