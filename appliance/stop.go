package appliance

import (
	"slices"
	"sync"
)

// running is what the appliance has running, by name, for a command that
// must say what did not stop in time.
type running struct {
	mu    sync.Mutex
	names []string
}

// start notes that name is running; the function returned notes that it
// stopped.
func (r *running) start(name string) (done func()) {
	r.mu.Lock()
	r.names = append(r.names, name)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if i := slices.Index(r.names, name); i >= 0 {
			r.names = slices.Delete(r.names, i, i+1)
		}
	}
}

func (r *running) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names)
}

// Running names what Run has started and is still running: the gate (its
// lanes' state machines and the uplink), each lane's devices
// ("in-1/idcard"), the kiosk, the purge, closing the store. A command that
// is stopping says which did not stop in time.
func (a *Appliance) Running() []string { return a.running.list() }

// Halt de-energises every lane's barrier relays now: the fail-secure
// position, the barrier closed. It is for a process about to end without
// Run having returned (which halts them itself); it waits for no lane.
func (a *Appliance) Halt() {
	for _, b := range a.hw.barriers() {
		b.Halt()
	}
}

// haltBarriers, as the gate stops, de-energises the barrier relays at once
// (each lane's device loop does it again as it ends) and says so.
func (a *Appliance) haltBarriers() {
	a.Halt()
	var names []string
	for _, l := range a.cfg.Lanes {
		names = append(names, l.Name)
	}
	a.log.Info("stop: barriers left closed, relays de-energised (fail-secure)", "lanes", names)
}

// closeStore closes the database (its WAL checkpointed into the file) and
// says so.
func (a *Appliance) closeStore() {
	done := a.running.start("closing the database")
	defer done()
	if err := a.st.Close(); err != nil {
		a.log.Error("stop: the database did not close cleanly; it is recovered at the next start", "database", a.cfg.Database, "err", err)
		return
	}
	a.log.Info("stop: database closed", "database", a.cfg.Database)
}
