package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/appliance"
	"github.com/hazgate/hazgate/atomicfile"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/sim"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/strictyaml"
	"github.com/hazgate/hazgate/uplink"
	"github.com/hazgate/hazgate/uplink/broker"
)

// The simulated gate's names: its MQTT root is hazgate/demo/sim.
const (
	simPark = "demo"
	simGate = "sim"
)

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The engine's devices print progress from their own goroutines while
	// this one prints the banner and the table: one lock for all of them.
	stdout = &lockedWriter{w: stdout}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario `FILE` to run (default: the built-in demo)")
	report := fs.String("report", "", "write the JSON report to `FILE`")
	var speed speedFlag
	fs.Var(&speed, "speed", "run `N` times faster than real time; 0 runs as fast as possible (default 10 for the demo, 0 for -scenario)")
	once := fs.Bool("once", false, "exit after the demo instead of staying up")
	db := fs.String("db", "", "record into this SQLite `FILE` (default: a temporary file)")
	brokerURL := fs.String("broker", "", "publish to the MQTT broker at `URL` (tcp://host:port) instead of an embedded one on loopback")
	kioskAddr := fs.String("kiosk", "", "serve the operator kiosk on `ADDR` (default 127.0.0.1:8080 for the demo, off for -scenario)")
	verbose := fs.Bool("v", false, "log the gate's structured log to stderr")
	park := fs.Bool("park", false, "run the park demo instead: two gates of one park (east and west) on one broker, who is inside known at both")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	setGateMemoryLimit()
	if *park {
		if *scenario != "" || *db != "" || *kioskAddr != "" {
			return usageError{"-park runs its own two gates: it takes no -scenario, -db or -kiosk"}
		}
		return runParkDemo(ctx, stdout, stderr, *brokerURL, *verbose)
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
	if !speed.set && demo {
		speed.v = 10
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
	// What the command has running, named for a stop that takes too long
	// (stop.go).
	parts := partsOf(ctx)
	st, err := store.Open(ctx, path, store.WithClock(clk), store.WithOutboxLimit(100000))
	if err != nil {
		return err
	}
	defer parts.do("closing the database", func() { st.Close() })
	// MQTT: an embedded broker on loopback unless -broker names one.
	mqttURL := *brokerURL
	// On the embedded broker the simulator is the platform too: it signs
	// its registry data with a key of its own, the only one the gate
	// trusts (docs/uplink.md "Signed registry data").
	var registryKey ed25519.PrivateKey
	if mqttURL == "" {
		if _, registryKey, err = ed25519.GenerateKey(nil); err != nil {
			return err
		}
		b, err := broker.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer parts.do("stopping the embedded MQTT broker", func() { b.Close() })
		mqttURL = b.URL()
	}
	// The gate, assembled as the appliance's is, uplink included. As on
	// the appliance, a lock-down is kept in the store (it outlives a
	// restart of the simulator only with -db).
	done := parts.start("starting the simulated gate")
	eng, err := sim.New(ctx, sc, sim.Options{Speed: speed.v, Store: st, Clock: clk, Progress: stdout, Log: log,
		Park: simPark, Gate: simGate, Broker: mqttURL, ClientID: "hazgate-sim-" + fmt.Sprint(os.Getpid()), RegistryKey: registryKey,
		TakeRegistry: true}) // run once: its registry is the store's alone
	done()
	if err != nil {
		return err
	}
	defer parts.do("stopping the simulated gate (lanes, devices, uplink)", eng.Close)
	if g := eng.Gate(); g.LockdownErr != nil {
		fmt.Fprintln(stderr, g.LockdownErr)
	} else if g.Lockdown.On {
		fmt.Fprintf(stdout, "hazgate sim: the gate was locked down by %s at %s: every lane stays locked down until it is lifted\n", g.Lockdown.By, g.Lockdown.At.Format(time.RFC3339))
	}

	root := "hazgate/" + simPark + "/" + simGate
	fmt.Fprintf(stdout, "hazgate sim: %s (%d vehicles on %v, speed %s)\n", sc.Name, len(sc.Arrivals), sc.Lanes(), speedString(speed.v))
	fmt.Fprintf(stdout, "MQTT feed: %s under %s/ — watch it with:\n  %s\n", mqttURL, root, subLine(mqttURL, root))
	if registryKey != nil {
		m, _ := st.RegistryMeta(ctx)
		fmt.Fprintf(stdout, "registry: version %d, its sync signed by the simulator's platform key %s (the only registry key the gate trusts)\n",
			m.Version, uplink.PublicKeyString(registryKey.Public().(ed25519.PublicKey)))
	}
	if demo && *kioskAddr == "" {
		*kioskAddr = "127.0.0.1:8080"
	}
	if *kioskAddr != "" {
		kctx, stopKiosk := context.WithCancel(ctx)
		served, err := serveKiosk(kctx, stdout, *kioskAddr, eng, filepath.Dir(path), log)
		if err != nil {
			stopKiosk()
			return err
		}
		defer parts.do("stopping the kiosk", func() { stopKiosk(); <-served }) // the kiosk stops before the gate

	}

	done = parts.start("the scenario run")
	rep, err := eng.Run(ctx)
	done()
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
	} else {
		done = parts.start("waiting for the MQTT outbox to drain")
		if !drained(ctx, st, 30*time.Second) {
			fmt.Fprintln(stderr, "hazgate sim: the MQTT outbox did not drain within 30s; the events stay in the store")
		}
		done()
	}
	if rep.Failed > 0 {
		return exitError(1)
	}
	return nil
}

// serveKiosk serves the kiosk over the simulated gate with a demo
// supervisor whose password is new every run, and prints how to sign in.
// It serves until ctx ends; the channel is closed when it has stopped.
func serveKiosk(ctx context.Context, stdout io.Writer, addr string, eng *sim.Engine, dbDir string, log *slog.Logger) (<-chan struct{}, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	password := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	op, err := kiosk.NewOperator("demo", kiosk.RoleSupervisor, password)
	if err != nil {
		return nil, err
	}
	g := eng.Gate()
	if err := g.Store.AddOperator(ctx, op, true, eng.Clock().Now()); err != nil {
		return nil, err
	}
	k, err := appliance.NewKiosk(g, appliance.KioskOptions{GateClock: eng.Clock(), Disk: dbDir, Log: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// Another program (another demo) has the port: say so, loudly,
		// and take a free one.
		fmt.Fprintf(stdout, "kiosk: %s is taken (another program, or another demo, is listening there): using a free port instead\n", addr)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := k.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("kiosk stopped", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "kiosk: http://%s  sign in as demo / %s\n", ln.Addr(), password)
	return served, nil
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

// subLine is the two commands that show the feed under root: the safety
// office's hazgate watch (every gate, in words, with its gaps) and the raw
// messages with mosquitto_sub.
func subLine(broker, root string) string {
	watch := fmt.Sprintf("hazgate watch -broker %s -root %s", broker, root)
	u, err := url.Parse(broker)
	if err != nil {
		return watch + "\n  mosquitto_sub -t '" + root + "/#' -v"
	}
	return fmt.Sprintf("%s\n  mosquitto_sub -h %s -p %s -t '%s/#' -v", watch, u.Hostname(), u.Port(), root)
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
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// speedFlag is -speed: a finite number, 0 or more, with a default that
// depends on the run (so -h shows none of its own).
type speedFlag struct {
	v   float64
	set bool
}

func (f *speedFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', -1, 64)
}

func (f *speedFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strictyaml.FiniteFloat(v) != nil || v < 0 {
		return fmt.Errorf("%q is not a speed: give a number, 0 (as fast as possible) or more", s)
	}
	f.v, f.set = v, true
	return nil
}

// lockedWriter serialises writes from several goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runParkDemo runs the park demo (sim.RunParkDemo): two gates of one park on
// the embedded broker (or brokerURL), each with its own store.
func runParkDemo(ctx context.Context, stdout, stderr io.Writer, brokerURL string, verbose bool) error {
	log := slog.New(slog.DiscardHandler)
	if verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	dir, err := os.MkdirTemp("", "hazgate-park-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if brokerURL == "" {
		b, err := broker.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer b.Close()
		brokerURL = b.URL()
	}
	fmt.Fprintf(stdout, "hazgate sim -park: two gates of park %q, %s and %s, on %s — watch them with:\n  %s\n",
		simPark, sim.ParkGates[0], sim.ParkGates[1], brokerURL, subLine(brokerURL, "hazgate/"+simPark))
	demo, err := sim.RunParkDemo(ctx, stdout, brokerURL, "hazgate-sim-"+fmt.Sprint(os.Getpid()), dir, sim.Options{Log: log})
	if demo != nil {
		for i, r := range demo.Reports {
			if r != nil {
				fmt.Fprintf(stdout, "\n%s gate:\n", sim.ParkGates[i])
				r.WriteTable(stdout)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	return nil
}
