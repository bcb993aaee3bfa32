// Package buildinfo holds the version stamped in by the linker.
package buildinfo

// Set with -ldflags -X at build time (see the Makefile).
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
