package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

// loop advances the fake clock from event to event, pacing by Speed, until
// every vehicle has finished. Between two steps it lets the devices deliver
// what the step caused and every lane settle (settle), so that nothing that
// happens in real time decides what happens at which simulated instant.
func (e *Engine) loop(ctx context.Context) error {
	last := e.sc.Arrivals[0].At.D()
	for _, a := range e.sc.Arrivals {
		last = max(last, a.At.D())
	}
	limit := e.start.Add(last + 24*time.Hour)
	wallStart, simStart := time.Now(), e.clk.Now()
	var restBy time.Time // once every vehicle is done: how long barriers may take to come to rest
	for {
		if err := e.settle(ctx); err != nil {
			return err
		}
		if e.allDone() {
			// The last barrier may still be closing behind its
			// vehicle: let it finish, so that the lanes (the kiosk,
			// the retained status) are left at rest.
			if restBy.IsZero() {
				restBy = e.clk.Now().Add(barrierRest)
			}
			if e.barriersAtRest() {
				return nil
			}
		}
		next, ok := e.clk.Next()
		if !ok && !restBy.IsZero() {
			return nil
		}
		if !ok {
			return fmt.Errorf("sim: %s: stuck at %s with %s unfinished", e.sc.Name, e.offset(e.clk.Now()), e.unfinished())
		}
		if !restBy.IsZero() && next.After(restBy) {
			return nil
		}
		if next.After(limit) {
			return fmt.Errorf("sim: %s: still running a day after the last arrival; unfinished: %s", e.sc.Name, e.unfinished())
		}
		if e.opt.Speed > 0 {
			due := wallStart.Add(time.Duration(float64(next.Sub(simStart)) / e.opt.Speed))
			if d := time.Until(due); d > 0 {
				if !clock.Sleep(ctx, clock.Real{}, d) {
					return ctx.Err()
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		e.clk.AdvanceTo(next)
	}
}

// barrierRest bounds how long the run goes on after the last vehicle for
// the barriers to come to rest.
const barrierRest = time.Minute

// barriersAtRest reports whether no lane's barrier is opening or closing.
func (e *Engine) barriersAtRest() bool {
	for _, l := range e.lanes {
		switch l.gl.Runner.Snapshot().BarrierReported {
		case lane.BarrierOpening, lane.BarrierClosing:
			return false
		}
	}
	return true
}

func (e *Engine) allDone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done == len(e.vehicles)
}

func (e *Engine) unfinished() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, v := range e.vehicles {
		if !v.finished {
			s = append(s, fmt.Sprintf("arrivals[%d] (%s %s)", v.index, v.a.Lane, v.a.Plate))
		}
	}
	return strings.Join(s, ", ")
}

func (e *Engine) offset(t time.Time) string {
	d := t.Sub(e.start).Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}
