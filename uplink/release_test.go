package uplink_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
	"github.com/hazgate/hazgate/lanes"
	"github.com/hazgate/hazgate/uplink"
)

// testLane is one lane of the gate under test, with its fakes.
type testLane struct {
	r   *lane.Runner
	b   *lanetest.Barrier
	rec *lanetest.Recorder
}

// gateLanes runs entry lanes whose decisions are the given verdicts, on
// a fake clock, in a lanes.Set: the gate's Commander.
func gateLanes(t *testing.T, verdicts map[string]checks.Verdict) (*lanes.Set, map[string]testLane) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	s := lanes.New()
	out := map[string]testLane{}
	ctx, cancel := context.WithCancel(context.Background())
	var done []chan struct{}
	for _, name := range slices.Sorted(maps.Keys(verdicts)) {
		tl := testLane{b: &lanetest.Barrier{}, rec: &lanetest.Recorder{}}
		tl.r = lane.NewRunner(lane.Config{Name: name}, lane.Deps{
			Clock: clk, Barrier: tl.b, Decider: &lanetest.Decider{Outcome: lanetest.Outcome(verdicts[name])},
			Recorder: tl.rec, OnChange: s.Changed,
		})
		s.Add(tl.r)
		d := make(chan struct{})
		done = append(done, d)
		go func() { defer close(d); tl.r.Run(ctx) }()
		out[name] = tl
	}
	t.Cleanup(func() {
		cancel()
		for _, d := range done {
			<-d
		}
	})
	return s, out
}

// hold brings a vehicle to the lane and lets its deadline pass: the lane
// decides and, for a review or a reject, holds it.
func hold(t *testing.T, s *lanes.Set, tl testLane) lane.Snapshot {
	t.Helper()
	name := tl.r.Name()
	s.Send(name, lane.VehiclePresent{})
	s.Send(name, lane.DeadlinePassed{Gen: 1})
	if err := tl.r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := tl.r.Snapshot()
	if snap.Phase != lane.PhaseHeld || snap.InspectionID == "" {
		t.Fatalf("%s: phase %s, inspection %q: want held", name, snap.Phase, snap.InspectionID)
	}
	return snap
}

func opened(tl testLane) bool { return slices.Contains(tl.b.Log(), lane.CommandUp) }

// A signed release says what happened: without an inspection id it is
// refused; a held reject is not released remotely, nor is a lane holding
// nothing, nor another inspection than the one held, each raising
// command_failed with the lane's reason; a held review named by its id is
// released, recorded as the named operator's release.
func TestRemoteRelease(t *testing.T) {
	set, ls := gateLanes(t, map[string]checks.Verdict{
		"in-1": checks.VerdictReview, "in-2": checks.VerdictReject, "in-3": checks.VerdictReview,
	})
	review := hold(t, set, ls["in-1"])
	reject := hold(t, set, ls["in-2"])
	r := uplink.NewCommandRig(t, set)

	opens := make(chan lane.Snapshot, 16)
	set.Watch(func(s lane.Snapshot) {
		if s.Phase == lane.PhaseOpen {
			opens <- s
		}
	})

	steps := []struct {
		name, args string
		kind, want string // the alarm it raises
	}{
		{"no inspection id", `{"lane":"in-1","operator":"zhang","reason":"checked by phone"}`,
			uplink.AlarmCommandRefused, "cmd/release: bad_args: release needs the inspection_id"},
		{"a held reject", `{"lane":"in-2","inspection_id":"` + reject.InspectionID + `","operator":"zhang","reason":"checked by phone"}`,
			uplink.AlarmCommandFailed, "cmd/release: inspection " + reject.InspectionID + " has the verdict reject: only a review may be released remotely"},
		{"nothing held", `{"lane":"in-3","inspection_id":"in-3-1","operator":"zhang","reason":"checked by phone"}`,
			uplink.AlarmCommandFailed, "cmd/release: lane in-3 holds no inspected vehicle (phase idle)"},
		{"another inspection", `{"lane":"in-1","inspection_id":"in-1-9","operator":"zhang","reason":"checked by phone"}`,
			uplink.AlarmCommandFailed, "cmd/release: lane in-1 holds inspection " + review.InspectionID + ", not in-1-9"},
		{"no such lane", `{"lane":"in-9","inspection_id":"in-9-1","operator":"zhang","reason":"checked by phone"}`,
			uplink.AlarmCommandFailed, `cmd/release: no lane "in-9"`},
	}
	for i, st := range steps {
		r.Send(t, uplink.CmdRelease, st.args, "alice")
		got := r.WaitAlarms(t, i+1)[i]
		if got.Kind != st.kind || !strings.HasPrefix(got.Detail, st.want) {
			t.Fatalf("%s: alarm %s %q, want %s %q", st.name, got.Kind, got.Detail, st.kind, st.want)
		}
	}
	for _, name := range []string{"in-1", "in-2", "in-3"} {
		if opened(ls[name]) {
			t.Fatalf("%s opened for a refused release", name)
		}
	}

	// The held review, named by its id, is released.
	r.Send(t, uplink.CmdRelease, `{"lane":"in-1","inspection_id":"`+review.InspectionID+`","operator":"zhang","reason":"checked by phone"}`, "alice")
	select {
	case s := <-opens:
		if s.Lane != "in-1" || s.InspectionID != review.InspectionID {
			t.Fatalf("opened %s for %s", s.Lane, s.InspectionID)
		}
	case <-time.After(time.Minute):
		t.Fatal("the held review was not released")
	}
	// The open phase is announced before the runner has carried out the
	// barrier command it comes with: wait for the runner to be idle.
	if err := ls["in-1"].r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var decided []lanetest.Decision
	ls["in-1"].rec.Do(func() { decided = slices.Clone(ls["in-1"].rec.Decisions) })
	if len(decided) != 1 || decided[0].InspectionID != review.InspectionID || decided[0].Action != lane.ActionRelease || decided[0].Operator != "zhang" {
		t.Fatalf("decisions recorded %+v", decided)
	}
	if !opened(ls["in-1"]) || opened(ls["in-2"]) {
		t.Fatalf("barriers: in-1 %v, in-2 %v", ls["in-1"].b.Log(), ls["in-2"].b.Log())
	}
	entries, err := r.Store.AuditFor(context.Background(), r.Root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "command.release" {
			n++
		}
	}
	// The refused one (no id) is not audited; the five accepted ones are,
	// the four the lanes refused too.
	if n != 5 {
		t.Fatalf("%d releases audited, want 5", n)
	}
}
