package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// monitorRig is a monitor on a fake clock and a fake source, recording
// what it reports.
type monitorRig struct {
	clk     *Fake
	src     *FakeSource
	m       *Monitor
	changes []State
	jumps   []Jump
}

func newRig(cfg MonitorConfig) *monitorRig {
	r := &monitorRig{clk: NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))}
	r.src = NewFakeSource(r.clk)
	r.m = NewMonitor(r.clk, r.src, cfg)
	r.m.OnChange = func(_ context.Context, s State) { r.changes = append(r.changes, s) }
	r.m.OnJump = func(_ context.Context, j Jump) { r.jumps = append(r.jumps, j) }
	return r
}

func TestMonitorTrust(t *testing.T) {
	floor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		cfg        MonitorConfig
		synced     bool
		step       time.Duration // the wall clock's offset from the fake clock
		err        error
		wantSynced bool
		wantReason string
	}{
		{"kernel synced", MonitorConfig{Source: SourceKernel}, true, 0, nil, true, ""},
		{"kernel unsynced", MonitorConfig{Source: SourceKernel}, false, 0, nil, false, ReasonUnsynced},
		{"kernel synced but before the floor", MonitorConfig{Source: SourceKernel, TrustedAfter: floor}, true, -365 * 24 * time.Hour, nil, false, ReasonBeforeFloor},
		{"kernel synced after the floor", MonitorConfig{Source: SourceKernel, TrustedAfter: floor}, true, 0, nil, true, ""},
		{"exactly at the floor is trusted", MonitorConfig{Source: SourceKernel, TrustedAfter: time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)}, true, 0, nil, true, ""},
		{"no source, after the floor", MonitorConfig{Source: SourceNone, TrustedAfter: floor}, false, 0, nil, true, ""},
		{"no source, before the floor (a board back in 1970)", MonitorConfig{Source: SourceNone, TrustedAfter: floor}, true, -56 * 365 * 24 * time.Hour, nil, false, ReasonBeforeFloor},
		{"source fails", MonitorConfig{Source: SourceKernel}, true, 0, errors.New("adjtimex: operation not permitted"), false, ReasonSourceFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(tc.cfg)
			if s := r.m.State(); s.Synced || s.Reason != ReasonNotChecked {
				t.Fatalf("before the first check: %+v, want not synced, not_checked", s)
			}
			r.src.SetSynced(tc.synced)
			r.src.Step(tc.step)
			r.src.SetErr(tc.err)
			s := r.m.Check(context.Background())
			if s.Synced != tc.wantSynced || s.Reason != tc.wantReason {
				t.Fatalf("state %+v, want synced %v reason %q", s, tc.wantSynced, tc.wantReason)
			}
			if r.m.Synced() != tc.wantSynced {
				t.Fatalf("Synced() = %v after the check", r.m.Synced())
			}
			if len(r.changes) != 1 {
				t.Fatalf("%d change reports at the first check, want 1", len(r.changes))
			}
			if tc.err != nil && (s.Err == nil || s.Detail == tc.err.Error()) {
				t.Fatalf("a failed read: Err %v, Detail %q: want the error kept for the log and plain words in Detail", s.Err, s.Detail)
			}
		})
	}
}

func TestMonitorReportsChangesOnly(t *testing.T) {
	r := newRig(MonitorConfig{Source: SourceKernel, Every: 10 * time.Second})
	r.src.SetSynced(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := r.m.Start(ctx)
	r.clk.Advance(10 * time.Second)
	if len(r.changes) != 1 || r.changes[0].Synced {
		t.Fatalf("changes %+v, want one: unsynced", r.changes)
	}
	r.src.SetSynced(true)
	r.clk.Advance(10 * time.Second)
	if !r.m.Synced() {
		t.Fatal("not synced at the check after the source synced")
	}
	r.clk.Advance(10 * time.Second)
	if len(r.changes) != 2 || !r.changes[1].Synced || r.changes[1].Reason != "" {
		t.Fatalf("changes %+v, want unsynced then synced", r.changes)
	}
	stop()
	if n := r.clk.Pending(); n != 0 {
		t.Fatalf("%d timers left after stop", n)
	}
	r.src.SetSynced(false)
	r.clk.Advance(time.Minute)
	if !r.m.Synced() {
		t.Fatal("a stopped monitor checked again")
	}
}

func TestMonitorBackwardJump(t *testing.T) {
	r := newRig(MonitorConfig{Source: SourceKernel, MaxBackwardJump: 2 * time.Minute})
	ctx := context.Background()
	r.m.Check(ctx)
	// Time passes normally, and the wall clock is stepped back by less
	// than the threshold (an NTP correction): nothing.
	r.clk.Advance(30 * time.Second)
	r.src.Step(-90 * time.Second)
	r.m.Check(ctx)
	if len(r.jumps) != 0 {
		t.Fatalf("a 90 s step back was reported: %+v", r.jumps)
	}
	// A step forward (the first NTP sync after a boot in 1970): nothing.
	r.clk.Advance(30 * time.Second)
	r.src.Step(56 * 365 * 24 * time.Hour)
	r.m.Check(ctx)
	if len(r.jumps) != 0 {
		t.Fatalf("a step forward was reported: %+v", r.jumps)
	}
	// 30 s pass while the wall clock goes back an hour.
	r.clk.Advance(30 * time.Second)
	before := r.src.Clock.Now()
	r.src.Step(-time.Hour)
	r.m.Check(ctx)
	if len(r.jumps) != 1 {
		t.Fatalf("jumps %+v, want one", r.jumps)
	}
	j := r.jumps[0]
	if j.By != time.Hour {
		t.Fatalf("jump by %v, want 1h", j.By)
	}
	wall := before.Add(56*365*24*time.Hour - 90*time.Second)
	if !j.From.Equal(wall) || !j.To.Equal(wall.Add(-time.Hour)) {
		t.Fatalf("jump from %v to %v, want %v to %v", j.From, j.To, wall, wall.Add(-time.Hour))
	}
	// The next look, with no new step, reports nothing more.
	r.clk.Advance(30 * time.Second)
	r.m.Check(ctx)
	if len(r.jumps) != 1 {
		t.Fatalf("jumps %+v after a quiet look, want still one", r.jumps)
	}
}

func TestMonitorNoThresholdNoJump(t *testing.T) {
	r := newRig(MonitorConfig{Source: SourceKernel})
	ctx := context.Background()
	r.m.Check(ctx)
	r.src.Step(-24 * time.Hour)
	r.m.Check(ctx)
	if len(r.jumps) != 0 {
		t.Fatalf("max_backward_jump 0 reported %+v", r.jumps)
	}
}

// A look that fails leaves the last good one to compare the next with: a
// step back across a failed look is still seen, and time passing across
// one is not a step.
func TestMonitorJumpAcrossAFailedLook(t *testing.T) {
	r := newRig(MonitorConfig{Source: SourceKernel, MaxBackwardJump: 2 * time.Minute})
	ctx := context.Background()
	r.m.Check(ctx)
	r.clk.Advance(10 * time.Minute)
	r.src.SetErr(errors.New("adjtimex: interrupted"))
	r.m.Check(ctx)
	r.src.SetErr(nil)
	r.clk.Advance(10 * time.Second)
	r.src.Step(-5 * time.Minute)
	r.m.Check(ctx)
	if len(r.jumps) != 1 || r.jumps[0].By != 5*time.Minute {
		t.Fatalf("jumps %+v, want one of 5m", r.jumps)
	}
	r.clk.Advance(10 * time.Minute)
	r.src.SetErr(errors.New("adjtimex: interrupted"))
	r.m.Check(ctx)
	r.src.SetErr(nil)
	r.clk.Advance(10 * time.Second)
	r.m.Check(ctx)
	if len(r.jumps) != 1 {
		t.Fatalf("jumps %+v: time passing across a failed look was taken for a step", r.jumps)
	}
}
