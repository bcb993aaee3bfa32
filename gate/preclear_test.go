package gate

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// preclearRegistry is one compliant tanker (synthetic: made-up plates and
// ID numbers of region 990001) with appointments, window opening at
// t0+opens.
func preclearRegistry(t *testing.T, version int64, appts ...registry.Appointment) *registry.Snapshot {
	t.Helper()
	d := func(s string) registry.Validity {
		v, err := registry.ParseValidity(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	id := func(s string) string {
		n, err := idnumber.Complete(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	dr, es := id("99000119860412011"), id("99000119870623012")
	return &registry.Snapshot{
		Version: version,
		Vehicles: []registry.Vehicle{
			{Plate: "浙B20001", Kind: "tractor", LicenceValidUntil: d("2027-01-31"), PermitNo: "1", PermitValidUntil: d("2027-06-30"), PermitClasses: []string{"2"}, InspectionValidUntil: d("2026-12-31"), RatedLoadKg: 40000},
			{Plate: "浙B2001挂", Kind: "trailer", LicenceValidUntil: d("2027-01-31"), PermitNo: "2", PermitValidUntil: d("2027-06-30"), PermitClasses: []string{"2"}, InspectionValidUntil: d("2026-12-31"), RatedLoadKg: 25000},
		},
		Tanks: []registry.Tank{{ID: "TK-1", Vehicle: "浙B2001挂", InspectionValidUntil: d("2026-09-30"), Media: []string{"UN1077"}}},
		Persons: []registry.Person{
			{IDNumber: dr, Name: "测试一", Certificates: []registry.Certificate{{Role: "driver", Number: "D", ValidUntil: d("2027-05-01")}}},
			{IDNumber: es, Name: "测试二", Certificates: []registry.Certificate{{Role: "escort", Number: "E", ValidUntil: d("2027-05-01")}}},
		},
		Waybills: []registry.Waybill{{Number: "YD1", Vehicle: "浙B20001", Trailer: "浙B2001挂", Driver: dr, Escort: es,
			ValidFrom: d("2026-03-15"), ValidUntil: d("2026-03-16"), Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}}}},
		Appointments: appts,
		SyncedAt:     registry.Instant(t0),
	}
}

func appointment(id string, opens time.Duration) registry.Appointment {
	return registry.Appointment{ID: id, Plate: "浙B20001", Company: "测试化工", Waybill: "YD1",
		From: registry.Instant(t0.Add(opens)), Until: registry.Instant(t0.Add(opens + 4*time.Hour))}
}

func newPreclearer(t *testing.T, st *store.Store, clk clock.Clock, asked *[]string) *Preclearer {
	p := checks.DefaultParams()
	p.Location = t0.Location()
	return &Preclearer{
		Keeper: record.New("east-1", st, p, nil), Store: st, Clock: clk, Lead: 2 * time.Hour, Recheck: 15 * time.Minute,
		Log: slog.New(slog.DiscardHandler),
		Find: func(_ context.Context, number string) checks.WaybillLookup {
			*asked = append(*asked, fmt.Sprintf("%s@%s", number, clk.Now().Sub(t0)))
			return checks.WaybillLookup{Number: number, Unavailable: true}
		},
	}
}

func preclearRows(t *testing.T, st *store.Store) int {
	t.Helper()
	rows, err := st.PendingOutbox(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Kind == store.KindPreclearance {
			n++
		}
	}
	return n
}

func TestPreclearerWhenItJudges(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	if err := st.ImportSnapshot(ctx, preclearRegistry(t, 1, appointment("A1", 5*time.Hour)), "test", t0); err != nil {
		t.Fatal(err)
	}
	var asked []string
	p := newPreclearer(t, st, clk, &asked)

	// It arrives: judged, published.
	if n := p.Pass(ctx); n != 1 || len(asked) != 1 {
		t.Fatalf("first pass: %d published, asked %v", n, asked)
	}
	// Nothing changed, nothing due: nothing judged.
	clk.Advance(time.Minute)
	if n := p.Pass(ctx); n != 0 || len(asked) != 1 {
		t.Fatalf("idle pass: %d published, asked %v", n, asked)
	}
	// Before the lead time, no recheck: nothing changed.
	clk.Advance(14 * time.Minute)
	if n := p.Pass(ctx); n != 0 || len(asked) != 1 {
		t.Fatalf("before the lead time: %d published, asked %v", n, asked)
	}
	// The lead time before the window: judged again, once.
	clk.AdvanceTo(t0.Add(3 * time.Hour))
	p.Pass(ctx)
	p.Pass(ctx)
	if len(asked) != 2 {
		t.Fatalf("lead: asked %v", asked)
	}
	// Within the lead time, the recheck: judged again, and the same
	// result is not published again.
	clk.Advance(15 * time.Minute)
	if n := p.Pass(ctx); n != 0 || len(asked) != 3 {
		t.Fatalf("recheck: %d published, asked %v", n, asked)
	}
	// A second appointment arrives in a registry update: it is
	// published; the first is judged again, and not re-published.
	if err := st.ImportSnapshot(ctx, preclearRegistry(t, 2, appointment("A1", 5*time.Hour), appointment("A2", 8*time.Hour)), "test", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if n := p.Pass(ctx); n != 1 || len(asked) != 5 {
		t.Fatalf("registry update: %d published, asked %v", n, asked)
	}
	if n := preclearRows(t, st); n != 2 {
		t.Fatalf("%d pre-clearance events, want 2", n)
	}
	// A restart: the last results are read back, nothing is re-published.
	again := newPreclearer(t, st, clk, &asked)
	if n := again.Pass(ctx); n != 0 {
		t.Fatalf("after a restart: %d published", n)
	}
	// An ended window is not judged any more.
	clk.AdvanceTo(t0.Add(13 * time.Hour))
	before := len(asked)
	again.Pass(ctx)
	if len(asked) != before {
		t.Fatalf("ended windows judged: %v", asked[before:])
	}
}

func TestPreclearerSkipsAppointmentsThatLetNobodyIn(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	cancelled := appointment("A1", time.Hour)
	cancelled.Status = registry.AppointmentCancelled
	if err := st.ImportSnapshot(ctx, preclearRegistry(t, 1, cancelled), "test", t0); err != nil {
		t.Fatal(err)
	}
	var asked []string
	if n := newPreclearer(t, st, clk, &asked).Pass(ctx); n != 0 {
		t.Fatalf("a cancelled appointment was pre-cleared")
	}
}

func TestAssembledGatePreclearsAtStart(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	if err := st.ImportSnapshot(context.Background(), preclearRegistry(t, 1, appointment("A1", time.Hour)), "test", t0); err != nil {
		t.Fatal(err)
	}
	g, err := Assemble(context.Background(), cfg, st, &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if g.Preclear == nil {
		t.Fatal("no pre-clearer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	select {
	case <-g.Preclear.FirstPass():
	case <-time.After(10 * time.Second):
		t.Fatal("no first pass in 10 s")
	}
	if n := preclearRows(t, st); n != 1 {
		t.Fatalf("%d pre-clearance events after the first pass, want 1", n)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the gate did not stop")
	}

	off := testConfig(t)
	off.Preclearance.Off = true
	g, err = Assemble(context.Background(), off, openStore(t, off, clk), &testHardware{}, Options{Clock: clk})
	if err != nil || g.Preclear != nil {
		t.Fatalf("preclearance.off: %v, %v", g.Preclear, err)
	}
}

// An appointment that arrives in a registry update is pre-cleared at once,
// not at the next poll: the fake clock never moves here.
func TestPreclearerJudgesARegistryChangeAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	if err := st.ImportSnapshot(ctx, preclearRegistry(t, 1, appointment("A1", 5*time.Hour)), "test", t0); err != nil {
		t.Fatal(err)
	}
	var asked []string
	p := newPreclearer(t, st, clk, &asked)
	p.Find = nil // the registry's copy: Find is not safe to share with Run
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-p.FirstPass()
	if n := preclearRows(t, st); n != 1 {
		t.Fatalf("%d pre-clearance events after the first pass, want 1", n)
	}
	if err := st.ImportSnapshot(ctx, preclearRegistry(t, 2, appointment("A1", 5*time.Hour), appointment("A2", 8*time.Hour)), "test", t0); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for preclearRows(t, st) != 2 {
		select {
		case <-deadline:
			t.Fatalf("A2 not pre-cleared within 10 s of the registry change (the clock never moved): %d events", preclearRows(t, st))
		case <-time.After(10 * time.Millisecond):
		}
	}
}
