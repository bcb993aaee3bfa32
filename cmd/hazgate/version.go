package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/hazgate/hazgate/buildinfo"
)

func cmdVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return usageError{"takes no arguments"}
	}
	fmt.Fprintf(stdout, "hazgate %s (commit %s, built %s, %s %s/%s)\n", buildinfo.Version, buildinfo.Commit, buildinfo.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
