package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hazgate/hazgate/config"
)

func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return usageError{"usage: hazgate config check FILE"}
	}
	c, err := config.Load(args[1])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	fmt.Fprintf(stdout, "%s: ok (gate %s/%s, %d lanes, MQTT root %s)\n", args[1], c.Park, c.Gate, len(c.Lanes), c.Root())
	return nil
}
