package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hazgate/hazgate/appliance"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/logs"
)

// gateMemoryLimit is the most the soft memory limit of `hazgate run` and
// `hazgate sim` is set to (below it, it is what they hold plus
// memoryHeadroom, membudget.go): twice the uplink's registry_max_bytes
// (64 MiB) and 64 MiB for the rest. A snapshot that replaces a registry of its size holds two indexes
// until the swap, and the collector would let the heap grow to twice that
// (docs/benchmarks.md, "Registry memory and the writer").
const gateMemoryLimit = 2*(64<<20) + 64<<20

// setGateMemoryLimit sets gateMemoryLimit unless GOMEMLIMIT is set, and
// then keeps the limit at what the gate holds plus memoryHeadroom, below
// it (membudget.go).
func setGateMemoryLimit() { holdMemory(memoryHeadroom, gateMemoryLimit) }

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the configuration `FILE` (see firmware-config/hazgate.example.yaml)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{"usage: hazgate run -config FILE"}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	setGateMemoryLimit()
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	// JSON under systemd, text on a terminal; a flapping device's lines
	// rate-limited; the last lines kept for the kiosk's health page.
	log, ring := logs.New(stderr, logs.Options{Level: level, Getenv: os.Getenv})
	a, err := appliance.New(ctx, cfg, appliance.Options{Log: log, ConfigFile: *path, Logs: ring})
	if err != nil {
		return err
	}
	// Stopping takes as long as the lanes, the devices, the uplink and
	// the store take; a process ended without waiting for them (stop.go)
	// says which had not stopped and halts the barriers first.
	parts := partsOf(ctx)
	parts.watch(a.Running)
	parts.onEnd(a.Halt)
	return a.Run(ctx)
}
