package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// stopBound is how long a command has, after SIGINT or SIGTERM, to stop by
// itself before it is ended anyway.
const stopBound = 5 * time.Second

// haltBound is how long the halts (the barriers to their fail-secure
// position) may take when a command is ended without stopping by itself.
const haltBound = time.Second

// exitStopTimeout is the exit status of a command that did not stop within
// stopBound of the signal. A second signal ends it with 128 + the signal's
// number, as a shell reports a process a signal killed.
const exitStopTimeout = 3

// untilSignalled runs a command (name: "hazgate run") on a context that the
// first SIGINT or SIGTERM on sigs cancels. It returns the command's exit
// status if the command stops by itself within bound of that signal;
// otherwise, when the bound is up or at a second signal, it says what was
// still running, carries out the command's halts (at most haltBound) and
// returns exitStopTimeout, or 128 + the second signal's number, while the
// command is still running: the caller exits the process.
func untilSignalled(sigs <-chan os.Signal, stderr io.Writer, name string, bound time.Duration, run func(context.Context) int) int {
	p := &parts{}
	ctx, cancel := context.WithCancel(withParts(context.Background(), p))
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	fmt.Fprintf(stderr, "%s: stopping on %s; it is ended anyway in %v, or at once on a second signal\n", name, sigName(sig), bound)
	cancel()
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case code := <-done:
		fmt.Fprintf(stderr, "%s: stopped\n", name)
		return code
	case second := <-sigs:
		code := 128 + sigNumber(second)
		fmt.Fprintf(stderr, "%s: %s again: ending at once (still running: %s); exit status %d\n", name, sigName(second), p.stillRunning(), code)
		p.halt(stderr, name)
		return code
	case <-timer.C:
		fmt.Fprintf(stderr, "%s: did not stop within %v of %s (still running: %s); ending anyway, exit status %d\n", name, bound, sigName(sig), p.stillRunning(), exitStopTimeout)
		p.halt(stderr, name)
		return exitStopTimeout
	}
}

func sigName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

func sigNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return 1
}

// parts is what a command has running, by name, so that a command that does
// not stop in time can say what it was waiting for, and what must be done
// before the process ends without a clean stop (the barriers halted).
type parts struct {
	mu      sync.Mutex
	running []string          // in the order they started; a name once per start
	watched []func() []string // more names, from a part that keeps its own list
	halts   []func()
}

type partsKey struct{}

func withParts(ctx context.Context, p *parts) context.Context {
	return context.WithValue(ctx, partsKey{}, p)
}

// partsOf is the command's parts; without untilSignalled (a test calling
// Main) a record that nobody reads.
func partsOf(ctx context.Context) *parts {
	if p, ok := ctx.Value(partsKey{}).(*parts); ok {
		return p
	}
	return &parts{}
}

// start notes that the part name is running; done notes that it stopped.
func (p *parts) start(name string) (done func()) {
	p.mu.Lock()
	p.running = append(p.running, name)
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if i := slices.Index(p.running, name); i >= 0 {
				p.running = slices.Delete(p.running, i, i+1)
			}
		})
	}
}

// do runs f as the part name ("closing the database").
func (p *parts) do(name string, f func()) {
	done := p.start(name)
	defer done()
	f()
}

// watch adds the names that f gives of what is still running.
func (p *parts) watch(f func() []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watched = append(p.watched, f)
}

// onEnd adds what must be done before the process ends without a clean stop.
func (p *parts) onEnd(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halts = append(p.halts, f)
}

// stillRunning names what is running, in plain words, the latest started
// first.
func (p *parts) stillRunning() string {
	p.mu.Lock()
	names := slices.Clone(p.running)
	watched := slices.Clone(p.watched)
	p.mu.Unlock()
	for _, f := range watched {
		names = append(names, f()...)
	}
	slices.Reverse(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return "nothing it knows of"
	}
	s := names[0]
	for _, n := range names[1:] {
		s += ", " + n
	}
	return s
}

// halt carries out the halts, waiting at most haltBound for them.
func (p *parts) halt(stderr io.Writer, name string) {
	p.mu.Lock()
	halts := slices.Clone(p.halts)
	p.mu.Unlock()
	if len(halts) == 0 {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, f := range halts {
			f()
		}
	}()
	select {
	case <-done:
	case <-time.After(haltBound):
		fmt.Fprintf(stderr, "%s: the halts did not finish within %v\n", name, haltBound)
	}
}
