package lane

import (
	"context"
	"fmt"

	"github.com/hazgate/hazgate/checks"
)

// The waybill lookup (docs/design.md, "Waybill lookup"): with
// Config.LookupWaybill, a scanned waybill is looked up at once while the
// people present their cards, and the lane decides only once the answer is
// in (or at its deadline). The looker bounds its own time and always
// answers.

// MissingWaybillLookup is the evidence item Missing reports while the
// scanned waybill's lookup has not answered.
const MissingWaybillLookup = "waybill_lookup"

// WaybillLooker looks a scanned waybill up (the registry's copy when fresh
// enough, else the waybill service). Lookup returns at once and calls done
// exactly once later, from any goroutine (or from within Lookup), within
// its own timeout: a service that does not answer gives the registry's
// copy, or a lookup marked Unavailable.
type WaybillLooker interface {
	Lookup(ctx context.Context, lane, number string, done func(checks.WaybillLookup))
}

// LookupWaybill asks the WaybillLooker for the waybill scanned; the answer
// comes back as WaybillLooked.
type LookupWaybill struct {
	Number string
}

// WaybillLooked answers LookupWaybill. An answer for another number than
// the waybill now scanned (a second scan replaced it) is ignored.
type WaybillLooked struct {
	Lookup checks.WaybillLookup
}

func (LookupWaybill) isAction()        {}
func (a LookupWaybill) String() string { return fmt.Sprintf("LookupWaybill{%q}", a.Number) }
func (WaybillLooked) isEvent()         {}
func (e WaybillLooked) String() string {
	return fmt.Sprintf("WaybillLooked{%q source=%q unavailable=%t}", e.Lookup.Number, e.Lookup.Source, e.Lookup.Unavailable)
}

// lookupPending reports whether the scanned waybill's lookup is awaited.
func (s State) lookupPending() bool {
	if !s.Config.LookupWaybill || s.Config.Exit || s.Evidence.Waybill == "" {
		return false
	}
	l := s.Evidence.WaybillLookup
	return l == nil || l.Number != s.Evidence.Waybill
}

// lookupWaybill starts the lookup of the waybill just scanned.
func (m *machine) lookupWaybill() {
	if m.s.lookupPending() {
		m.emit(LookupWaybill{Number: m.s.Evidence.Waybill})
	}
}

func (m *machine) waybillLooked(e WaybillLooked) {
	if m.s.Config.Exit || m.s.Phase != PhaseCollecting || !m.s.lookupPending() || e.Lookup.Number != m.s.Evidence.Waybill {
		return
	}
	m.s.Evidence.WaybillLookup = e.Lookup.Clone()
	m.step(MissingWaybillLookup)
	m.decideIfComplete()
}

// lookupUnanswered marks a lookup still awaited when the lane decides (its
// deadline passed): the waybill service gave nothing, which is never a
// pass.
func (m *machine) lookupUnanswered() {
	if m.s.lookupPending() {
		m.s.Evidence.WaybillLookup = &checks.WaybillLookup{Number: m.s.Evidence.Waybill, Unavailable: true, Detail: "no answer by the lane's deadline"}
	}
}
