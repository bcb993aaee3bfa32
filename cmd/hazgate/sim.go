package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
	"github.com/hazgate/hazgate/uplink/broker"
)

// The simulated gate's names: its MQTT root is hazgate/demo/sim.
const (
	simPark = "demo"
	simGate = "sim"
)

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario `FILE` to run (default: the built-in demo)")
	report := fs.String("report", "", "write the JSON report to `FILE`")
	speed := fs.Float64("speed", -1, "run `N` times faster than real time; 0 runs as fast as possible (default 10 for the demo, 0 for -scenario)")
	once := fs.Bool("once", false, "exit after the demo instead of staying up")
	db := fs.String("db", "", "record into this SQLite `FILE` (default: a temporary file)")
	brokerURL := fs.String("broker", "", "publish to the MQTT broker at `URL` (tcp://host:port) instead of an embedded one on loopback")
	kioskAddr := fs.String("kiosk", "", "serve the operator kiosk on `ADDR` (default 127.0.0.1:8080 for the demo, off for -scenario)")
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
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	// The store, on the scenario's clock, kept open after the run for the
	// uplink to drain.
	clk := clock.NewFake(sc.Clock.Time)
	path := *db
	if path == "" {
		dir, err := os.MkdirTemp("", "hazgate-sim-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "sim.db")
	}
	st, err := store.Open(ctx, path, store.WithClock(clk), store.WithOutboxLimit(100000))
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := sim.New(ctx, sc, sim.Options{Speed: *speed, Store: st, Clock: clk, Progress: stdout, Log: log, Gate: simGate})
	if err != nil {
		return err
	}
	defer eng.Close()
	// As on the appliance, a lock-down is kept in the store (it outlives a
	// restart of the simulator only with -db).
	eng.Lanes().KeepLockdown(st, clk.Now)
	if ls, err := eng.Lanes().RestoreLockdown(ctx); err != nil {
		fmt.Fprintln(stderr, err)
	} else if ls.On {
		fmt.Fprintf(stdout, "hazgate sim: the gate was locked down by %s at %s: every lane stays locked down until it is lifted\n", ls.By, ls.At.Format(time.RFC3339))
	}

	// MQTT: an embedded broker on loopback unless -broker names one.
	mqttURL := *brokerURL
	if mqttURL == "" {
		b, err := broker.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer b.Close()
		mqttURL = b.URL()
	}
	up, err := uplink.New(uplink.Config{Broker: mqttURL, Park: simPark, Gate: simGate, ClientID: "hazgate-sim-" + fmt.Sprint(os.Getpid()),
		Location: eng.Gate().Params.Location, // status and telemetry in the park's zone, as the events
	}, st, uplink.Deps{
		Clock: sim.WallTimers{Fake: clk}, Log: log.With("component", "uplink"),
		Status: eng.Lanes(), Commands: eng.Lanes(), Alarms: eng.Gate(),
	})
	if err != nil {
		return err
	}
	eng.Gate().OnRecord = up.Kick
	eng.Lanes().Watch(func(lane.Snapshot) { up.StatusChanged() })
	upCtx, stopUplink := context.WithCancel(context.WithoutCancel(ctx))
	upDone := make(chan struct{})
	go func() { defer close(upDone); up.Run(upCtx) }()
	defer func() { stopUplink(); <-upDone }()

	root := "hazgate/" + simPark + "/" + simGate
	fmt.Fprintf(stdout, "hazgate sim: %s (%d vehicles on %v, speed %s)\n", sc.Name, len(sc.Arrivals), sc.Lanes(), speedString(*speed))
	fmt.Fprintf(stdout, "MQTT feed: %s under %s/ — watch it with:\n  %s\n", mqttURL, root, subLine(mqttURL, root))
	if demo && *kioskAddr == "" {
		*kioskAddr = "127.0.0.1:8080"
	}
	if *kioskAddr != "" {
		kctx, stopKiosk := context.WithCancel(ctx)
		defer stopKiosk()
		if err := serveKiosk(kctx, stdout, *kioskAddr, eng, st, up, filepath.Dir(path), log); err != nil {
			return err
		}
	}

	rep, err := eng.Run(ctx)
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
	} else if !drained(ctx, st, 30*time.Second) {
		fmt.Fprintln(stderr, "hazgate sim: the MQTT outbox did not drain within 30s; the events stay in the store")
	}
	if rep.Failed > 0 {
		return exitError(1)
	}
	return nil
}

// serveKiosk serves the kiosk over the simulated gate with a demo
// supervisor whose password is new every run, and prints how to sign in.
func serveKiosk(ctx context.Context, stdout io.Writer, addr string, eng *sim.Engine, st *store.Store, up *uplink.Uplink, dbDir string, log *slog.Logger) error {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	password := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	op, err := kiosk.NewOperator("demo", kiosk.RoleSupervisor, password)
	if err != nil {
		return err
	}
	if err := st.AddOperator(ctx, op, true, eng.Clock().Now()); err != nil {
		return err
	}
	k, err := kiosk.New(kiosk.Config{Gate: simGate}, kiosk.Deps{
		Lanes: eng.Lanes(), Store: st, GateClock: eng.Clock(), Disk: kiosk.DiskAt(dbDir),
		Devices: eng.Lanes(), Broker: kiosk.UplinkBroker(up), Log: log.With("component", "kiosk"),
	})
	if err != nil {
		return err
	}
	eng.Lanes().Watch(k.Publish)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// Another program (another demo) has the port: take a free one.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
	}
	go k.Serve(ctx, ln)
	fmt.Fprintf(stdout, "kiosk: http://%s  sign in as demo / %s\n", ln.Addr(), password)
	return nil
}

// drained waits until the outbox is empty, or for at most limit.
func drained(ctx context.Context, st *store.Store, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		depth, _, err := st.OutboxStats(ctx)
		if err == nil && depth == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// subLine is the mosquitto_sub command that shows the gate's feed.
func subLine(broker, root string) string {
	u, err := url.Parse(broker)
	if err != nil {
		return "mosquitto_sub -t '" + root + "/#' -v"
	}
	return fmt.Sprintf("mosquitto_sub -h %s -p %s -t '%s/#' -v", u.Hostname(), u.Port(), root)
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hazgate-*.tmp")
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
