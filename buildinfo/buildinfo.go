// Package buildinfo holds the version stamped in by the linker.
//
// It imports nothing; anything may import it (the uplink's status and
// `hazgate version` do).
package buildinfo

// Set with -ldflags -X at build time (see the Makefile).
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
