package checks

import (
	"reflect"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// countingRegistry counts the look-ups the checks make of an index.
type countingRegistry struct {
	*registry.Index
	vehicles, tanks map[string]int
}

func (c *countingRegistry) Vehicle(plate string) (registry.Vehicle, bool) {
	c.vehicles[plate]++
	return c.Index.Vehicle(plate)
}

func (c *countingRegistry) TankOn(plate string) (registry.Tank, bool) {
	c.tanks[plate]++
	return c.Index.TankOn(plate)
}

// One judgement looks each vehicle and each tank up once (the index
// decodes a record on every look-up), and judges as the index itself does.
func TestRunLooksEachRecordUpOnce(t *testing.T) {
	ix := registry.NewIndex(baseRegistry(), time.Time{})
	ev := baseEvidence()
	for _, tc := range []struct {
		name string
		ev   Evidence
	}{
		{"compliant", ev},
		{"unknown trailer", func() Evidence { e := ev; e.Trailer = "测Z9999挂"; return e }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &countingRegistry{Index: ix, vehicles: map[string]int{}, tanks: map[string]int{}}
			got := Run(tc.ev, c, now, params())
			if len(c.vehicles) == 0 || len(c.tanks) == 0 {
				t.Fatalf("no look-ups counted: vehicles %v, tanks %v", c.vehicles, c.tanks)
			}
			for plate, n := range c.vehicles {
				if n != 1 {
					t.Errorf("vehicle %s looked up %d times, want once", plate, n)
				}
			}
			for plate, n := range c.tanks {
				if n != 1 {
					t.Errorf("tank on %s looked up %d times, want once", plate, n)
				}
			}
			if want := Run(tc.ev, ix, now, params()); !reflect.DeepEqual(got, want) {
				t.Errorf("outcome through the counter:\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// The appointments of the index still reach the rules through the memo.
func TestMemoPassesAppointmentsThrough(t *testing.T) {
	ix := registry.NewIndex(baseRegistry(), time.Time{})
	m := newMemo(ix)
	if _, ok := Registry(m).(AppointmentRegistry); !ok {
		t.Fatal("the memo hides the index's appointments")
	}
	if got, want := m.Appointments(baseEvidence().Plate), ix.Appointments(baseEvidence().Plate); !reflect.DeepEqual(got, want) {
		t.Fatalf("appointments %v, want %v", got, want)
	}
}
