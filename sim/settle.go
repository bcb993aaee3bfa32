package sim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// act queues a step that touches a real-time device; the loop runs the
// queued steps one at a time, each followed by a wait for its effects. Call
// it from fake-clock timers.
func (e *Engine) act(f func()) {
	e.dev.Lock()
	e.actions = append(e.actions, f)
	e.dev.Unlock()
}

// changedLocked wakes whoever waits for the devices. e.dev is held.
func (e *Engine) changedLocked() {
	close(e.devChanged)
	e.devChanged = make(chan struct{})
}

// faceWork counts face matches at work in real time (not waiting on the
// fake clock).
func (e *Engine) faceWork(n int) {
	e.dev.Lock()
	e.faceBusy += n
	e.changedLocked()
	e.dev.Unlock()
}

// settle runs the queued device steps one at a time and returns when the
// devices and the lanes are quiet: nothing happens any more until the fake
// clock moves.
func (e *Engine) settle(ctx context.Context) error {
	for {
		if err := e.quiesce(ctx); err != nil {
			return err
		}
		e.dev.Lock()
		if len(e.actions) == 0 {
			e.dev.Unlock()
			return nil
		}
		f := e.actions[0]
		e.actions = e.actions[1:]
		e.dev.Unlock()
		f()
	}
}

// quiesce waits for the devices to deliver what they owe, then for the
// lanes to handle it, until both are quiet. Each wait is bounded
// (settleBound): a device or a lane that stops answering ends the run with
// an error naming it, and never holds the fake clock for ever.
func (e *Engine) quiesce(ctx context.Context) error {
	for {
		if err := e.devicesQuiet(ctx); err != nil {
			return err
		}
		for _, name := range e.sc.Lanes() {
			if err := e.laneQuiet(ctx, name); err != nil {
				return err
			}
		}
		e.dev.Lock()
		why := e.busyLocked()
		e.dev.Unlock()
		if why == "" {
			return nil
		}
	}
}

// laneQuiet waits, at most settleBound, until the lane has handled every
// event sent to it.
func (e *Engine) laneQuiet(ctx context.Context, name string) error {
	sctx, cancel := context.WithTimeout(ctx, settleBound)
	defer cancel()
	err := e.lanes[name].gl.Runner.Sync(sctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sim: %s: at %s lane %s did not handle its events within %v", e.sc.Name, e.offset(e.clk.Now()), name, settleBound)
	default:
		return fmt.Errorf("sim: lane %s: %w", name, err)
	}
}

// devicesQuiet waits, at most settleBound, until no device owes a delivery.
func (e *Engine) devicesQuiet(ctx context.Context) error {
	var bound *time.Timer
	for {
		e.dev.Lock()
		e.pumpLocked()
		why := e.busyLocked()
		ch := e.devChanged
		e.dev.Unlock()
		if why == "" {
			return nil
		}
		if bound == nil {
			bound = time.NewTimer(settleBound)
			defer bound.Stop()
		}
		select {
		case <-ch:
		case <-bound.C:
			return fmt.Errorf("sim: %s: at %s the simulated devices did not settle within %v: %s", e.sc.Name, e.offset(e.clk.Now()), settleBound, why)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pumpLocked carries out what waited for a device to be ready: a card
// presented again once the reader has seen its field empty, a scan once
// the scanner's driver has it open.
func (e *Engine) pumpLocked() {
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		for _, r := range l.readers {
			r.pumpLocked()
		}
		if l.scanner != nil {
			l.scanner.pumpLocked()
		}
	}
}

// busyLocked says what the devices still owe ("" when nothing).
func (e *Engine) busyLocked() string {
	if e.faceBusy > 0 {
		return fmt.Sprintf("%d face match(es) unanswered", e.faceBusy)
	}
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		for _, r := range l.readers {
			if why := r.busyLocked(); why != "" {
				return r.name + ": " + why
			}
		}
		if s := l.scanner; s != nil {
			if why := s.busyLocked(); why != "" {
				return s.name + ": " + why
			}
		}
		if v := l.voice; v != nil {
			if why := v.busyLocked(); why != "" {
				return v.name + ": " + why
			}
		}
		if w := l.scale; w != nil {
			if why := w.busyLocked(); why != "" {
				return w.name + ": " + why
			}
		}
	}
	return ""
}
