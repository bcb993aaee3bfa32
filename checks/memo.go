package checks

import "github.com/hazgate/hazgate/registry"

// memo is a Registry that looks each vehicle and tank up once per judgement:
// the rules ask for the same tractor and trailer several times, and the
// registry index decodes a record on every look-up (registry/index.go).
// It lives for one run only, so it never holds a record past the index it
// was read from.
type memo struct {
	Registry
	vehicles map[string]memoVehicle
	tanks    map[string]memoTank
}

type memoVehicle struct {
	v  registry.Vehicle
	ok bool
}

type memoTank struct {
	t  registry.Tank
	ok bool
}

func newMemo(reg Registry) *memo {
	return &memo{Registry: reg, vehicles: make(map[string]memoVehicle, 2), tanks: make(map[string]memoTank, 2)}
}

func (m *memo) Vehicle(plate string) (registry.Vehicle, bool) {
	if r, ok := m.vehicles[plate]; ok {
		return r.v, r.ok
	}
	v, ok := m.Registry.Vehicle(plate)
	m.vehicles[plate] = memoVehicle{v, ok}
	return v, ok
}

func (m *memo) TankOn(plate string) (registry.Tank, bool) {
	if r, ok := m.tanks[plate]; ok {
		return r.t, r.ok
	}
	t, ok := m.Registry.TankOn(plate)
	m.tanks[plate] = memoTank{t, ok}
	return t, ok
}

// Appointments passes through to the registry's appointments, none when
// it keeps none (as a Registry without them is judged).
func (m *memo) Appointments(plate string) []registry.Appointment {
	if ar, ok := m.Registry.(AppointmentRegistry); ok {
		return ar.Appointments(plate)
	}
	return nil
}
