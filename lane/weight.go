package lane

import (
	"fmt"
	"math"
	"time"
)

// WeightStable is the weighbridge's stable gross weight: its indicator read
// within the stable band from Since until now (device/scale). On a lane
// with a weighbridge it is evidence, taken while the vehicle is being
// inspected if every reading came after the vehicle reached the arrival
// loop: a weight that was steady before is the platform's or the last
// vehicle's. The scale says it again after each stable time while the
// weight holds, so a vehicle that stood still before its loop read
// occupied is weighed a moment later. The first one taken is kept.
type WeightStable struct {
	Kg    float64
	Since time.Time
}

func (e WeightStable) String() string {
	return fmt.Sprintf("WeightStable{%.0f kg since %s}", e.Kg, e.Since.Format(time.RFC3339))
}

func (m *machine) weightStable(e WeightStable) {
	ev := &m.s.Evidence
	if !m.s.Config.Weighbridge || m.s.Config.Exit || m.s.Phase != PhaseCollecting || ev.GrossKg != nil {
		return
	}
	// A reading that is not a positive finite number is not a weight
	// (written so that NaN fails).
	if !(e.Kg > 0) || math.IsInf(e.Kg, 0) || e.Since.Before(ev.Arrived) {
		return
	}
	kg := e.Kg
	ev.GrossKg = &kg
	m.step("weight")
	m.decideIfComplete()
}
