package lane_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
)

// A simulator drives a lane on a fake clock: it moves the clock to each
// scheduled device event with lanetest.AdvanceTo (which fires the lane's own
// timers, and the fake face matcher's, one instant at a time and syncs after
// each), sends the event, and syncs.
func ExampleRunner() {
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clk := clock.NewFake(start)
	barrier := &lanetest.Barrier{}
	r := lane.NewRunner(lane.Config{Name: "in-1"}, lane.Deps{
		Clock:    clk,
		Barrier:  barrier,
		Decider:  &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)},
		Faces:    &lanetest.FaceMatcher{Scores: map[string]float64{"11010519491231002X": 0.93, "110105194912310037": 0.91}, Clock: clk, Delay: time.Second},
		Recorder: &lanetest.Recorder{},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	schedule := []struct {
		at time.Duration
		e  lane.Event
	}{
		{0, lane.VehiclePresent{}},
		{1 * time.Second, lane.PlateRead{Plate: "浙B12345", Trailer: "浙B6789挂", Confidence: 1}},
		{8 * time.Second, lane.CardRead{Person: checks.PersonEvidence{IDNumber: "11010519491231002X"}}},
		{14 * time.Second, lane.CardRead{Person: checks.PersonEvidence{IDNumber: "110105194912310037"}}},
		{20 * time.Second, lane.WaybillScanned{Number: "YD3302002603150001"}},
		{23 * time.Second, lane.VehicleGone{}},
		{25 * time.Second, lane.SafetyLoop{Occupied: true}},
		{29 * time.Second, lane.SafetyLoop{Occupied: false}},
	}
	for _, s := range schedule {
		if err := lanetest.AdvanceTo(ctx, clk, start.Add(s.at), r); err != nil {
			panic(err)
		}
		r.Send(s.e)
		if err := r.Sync(ctx); err != nil {
			panic(err)
		}
		snap := r.Snapshot()
		fmt.Printf("+%-3v %-30s %-10s barrier %s\n", s.at, s.e, snap.Phase, snap.BarrierCommanded)
	}
	fmt.Println(barrier.Log())
	// Output:
	// +0s  VehiclePresent                 collecting barrier down
	// +1s  PlateRead{"浙B12345" "浙B6789挂" 1.00} collecting barrier down
	// +8s  CardRead{"11010519491231002X" role=""} collecting barrier down
	// +14s CardRead{"110105194912310037" role=""} collecting barrier down
	// +20s WaybillScanned{"YD3302002603150001"} open       barrier up
	// +23s VehicleGone                    open       barrier up
	// +25s SafetyLoop{Occupied:true}      open       barrier up
	// +29s SafetyLoop{Occupied:false}     idle       barrier down
	// [down up down]
}
