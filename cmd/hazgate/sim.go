package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hazgate/hazgate/sim"
)

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario `FILE` to run (default: the built-in demo)")
	report := fs.String("report", "", "write the JSON report to `FILE`")
	speed := fs.Float64("speed", -1, "run `N` times faster than real time; 0 runs as fast as possible (default 10 for the demo, 0 for -scenario)")
	once := fs.Bool("once", false, "exit after the demo instead of staying up")
	db := fs.String("db", "", "record into this SQLite `FILE` (default: a temporary file)")
	verbose := fs.Bool("v", false, "log the gate's structured log to stderr")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	var (
		sc  *sim.Scenario
		err error
	)
	demo := *scenario == ""
	if demo {
		sc, err = sim.Parse(sim.DemoYAML, "demo.yaml")
	} else {
		sc, err = sim.Load(*scenario)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	if *speed < 0 {
		*speed = 0
		if demo {
			*speed = 10
		}
	}
	opt := sim.Options{Speed: *speed, DB: *db, Progress: stdout}
	if *verbose {
		opt.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	fmt.Fprintf(stdout, "hazgate sim: %s (%d vehicles on %v, speed %s)\n", sc.Name, len(sc.Arrivals), sc.Lanes(), speedString(*speed))
	rep, err := sim.Run(ctx, sc, opt)
	if err != nil {
		return err
	}
	rep.WriteTable(stdout)
	if *report != "" {
		if err := writeJSON(*report, rep); err != nil {
			return err
		}
	}
	if demo && !*once {
		fmt.Fprintln(stderr, "hazgate sim: demo finished; staying up until interrupted (Ctrl-C), or use -once")
		<-ctx.Done()
	}
	if rep.Failed > 0 {
		return exitError(1)
	}
	return nil
}

func speedString(s float64) string {
	if s == 0 {
		return "as fast as possible"
	}
	return fmt.Sprintf("%gx", s)
}

// writeJSON writes v to path through a temporary file, fsync and rename.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dirOf(path), ".hazgate-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
