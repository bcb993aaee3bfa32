package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

// simBarrier is a barrier on the fake clock: it reports open (or closed)
// after its travel time, and on opening the waiting vehicle drives through.
type simBarrier struct {
	l *simLane
}

var _ lane.Barrier = (*simBarrier)(nil)

func (b *simBarrier) Open() error {
	l := b.l
	travel := l.sim.timings.BarrierOpen.D()
	l.sim.clk.AfterFunc(0, func() { l.runner.Send(lane.BarrierFeedback{State: lane.BarrierOpening}) })
	l.sim.clk.AfterFunc(travel, func() {
		l.runner.Send(lane.BarrierFeedback{State: lane.BarrierOpen})
		l.vehicleDrivesThrough()
	})
	return nil
}

func (b *simBarrier) Close() error {
	l := b.l
	l.sim.clk.AfterFunc(0, func() { l.runner.Send(lane.BarrierFeedback{State: lane.BarrierClosing}) })
	l.sim.clk.AfterFunc(l.sim.timings.BarrierOpen.D(), func() { l.runner.Send(lane.BarrierFeedback{State: lane.BarrierClosed}) })
	return nil
}

// simFaces answers face matches with the scores the scenario gives the
// person presenting the card, one face-capture time after the card.
type simFaces struct {
	l *simLane
}

var _ lane.FaceMatcher = (*simFaces)(nil)

func (f *simFaces) Match(_ context.Context, _ string, p checks.PersonEvidence, done func(*float64)) {
	var score *float64
	if v := f.l.current(); v != nil {
		for _, pr := range []*Presenter{v.a.Driver, v.a.Escort} {
			if pr != nil && pr.IDNumber == p.IDNumber && pr.Face != nil {
				s := *pr.Face
				score = &s
			}
		}
	}
	f.l.sim.clk.AfterFunc(f.l.sim.timings.Face.D(), func() { done(score) })
}

// vehicle is one arrival as it goes through its lane.
type vehicle struct {
	index     int
	a         Arrival
	arrived   time.Time
	decidedAt time.Time
	outcome   *checks.Outcome
	opened    bool
	operated  bool
	finished  bool
	leave     clock.Timer
}

// simLane is a lane with its runner, its simulated devices and the queue of
// vehicles waiting to pull up.
type simLane struct {
	sim    *Engine
	name   string
	exit   bool
	runner *lane.Runner

	mu      sync.Mutex
	cur     *vehicle
	waiting []*vehicle
	phase   lane.Phase
}

func (l *simLane) current() *vehicle {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// arrive puts v at the back of the lane's queue and pulls it up if the lane
// is free. Runs on the clock goroutine.
func (l *simLane) arrive(v *vehicle) {
	l.mu.Lock()
	l.waiting = append(l.waiting, v)
	free := l.cur == nil
	l.mu.Unlock()
	if free {
		l.pullUp()
	}
}

// pullUp starts the next waiting vehicle's inspection: the arrival loop, then
// the plate, the cards, the faces (via simFaces) and the waybill in the
// scenario's timings.
func (l *simLane) pullUp() {
	l.mu.Lock()
	if l.cur != nil || len(l.waiting) == 0 {
		l.mu.Unlock()
		return
	}
	v := l.waiting[0]
	l.waiting = l.waiting[1:]
	l.cur = v
	l.mu.Unlock()

	s := l.sim
	t := s.timings
	v.arrived = s.clk.Now()
	l.runner.Send(lane.VehiclePresent{})
	at := func(d time.Duration, e lane.Event) { s.clk.AfterFunc(d, func() { l.runner.Send(e) }) }
	if v.a.Plate != "" {
		at(t.Plate.D(), lane.PlateRead{Plate: v.a.Plate, Trailer: v.a.Trailer, Confidence: 1})
	}
	if l.exit {
		return
	}
	driverAt := t.DriverCard.D()
	escortAt := driverAt + t.Face.D() + t.EscortCard.D()
	waybillAt := escortAt + t.Face.D() + t.Waybill.D()
	if p := v.a.Driver; p != nil {
		at(driverAt, lane.CardRead{Person: s.card(p), Role: "driver"})
	}
	if p := v.a.Escort; p != nil {
		at(escortAt, lane.CardRead{Person: s.card(p), Role: "escort"})
	}
	if v.a.Waybill != "" {
		at(waybillAt, lane.WaybillScanned{Number: v.a.Waybill})
	}
}

// vehicleDrivesThrough moves the vehicle from the arrival loop onto the loop
// under the open barrier, and off it after the clear time.
func (l *simLane) vehicleDrivesThrough() {
	v := l.current()
	if v == nil || v.opened {
		return
	}
	v.opened = true
	if v.leave != nil {
		v.leave.Stop()
	}
	l.runner.Send(lane.SafetyLoop{Occupied: true})
	l.runner.Send(lane.VehicleGone{})
	l.sim.clk.AfterFunc(l.sim.timings.Clear.D(), func() { l.runner.Send(lane.SafetyLoop{Occupied: false}) })
}

// changed follows the lane's phase: a held vehicle gets its operator step or
// turns away; an idle lane has finished its vehicle and takes the next. It
// runs on the lane goroutine, so it only schedules work on the clock.
func (l *simLane) changed(snap lane.Snapshot) {
	l.mu.Lock()
	prev := l.phase
	l.phase = snap.Phase
	v := l.cur
	l.mu.Unlock()
	if v == nil || prev == snap.Phase {
		return
	}
	s := l.sim
	switch snap.Phase {
	case lane.PhaseHeld:
		s.clk.AfterFunc(0, func() { l.held(v, snap) })
	case lane.PhaseIdle:
		s.clk.AfterFunc(0, func() { l.finish(v) })
	}
}

// held schedules the operator's step, if the scenario gives one, and the
// vehicle turning away unless it is released.
func (l *simLane) held(v *vehicle, snap lane.Snapshot) {
	if v.finished || v.opened {
		return
	}
	s := l.sim
	wait := time.Duration(0)
	if op := v.a.Operator; op != nil && snap.InspectionID != "" && !v.operated {
		v.operated = true
		wait = op.After.D()
		name := op.Name
		if name == "" {
			name = "sim-operator"
		}
		var e lane.Event = lane.OperatorRefuse{Operator: name, Reason: op.Reason, InspectionID: snap.InspectionID}
		if op.Action == "release" {
			e = lane.OperatorRelease{Operator: name, Reason: op.Reason, InspectionID: snap.InspectionID}
		}
		s.clk.AfterFunc(wait, func() {
			s.note(v, fmt.Sprintf("operator %s: %s (%s)", name, op.Action, op.Reason))
			l.runner.Send(e)
		})
		if op.Action == "release" {
			// If the release does not open (lock-down, a failed record),
			// the vehicle still turns away in the end.
			wait += s.timings.Leave.D()
		}
	}
	if v.leave == nil {
		v.leave = s.clk.AfterFunc(wait+s.timings.Leave.D(), func() {
			if !v.opened {
				l.runner.Send(lane.VehicleGone{})
			}
		})
	}
}

// finish closes the vehicle's story and pulls up the next one.
func (l *simLane) finish(v *vehicle) {
	l.mu.Lock()
	if l.cur != v || v.finished {
		l.mu.Unlock()
		return
	}
	v.finished = true
	l.cur = nil
	l.mu.Unlock()
	if v.leave != nil {
		v.leave.Stop()
	}
	l.sim.finished(v)
	l.pullUp()
}
