package lane

import (
	"maps"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// The evidence an entry lane collects (plate, ID cards, faces, waybill), and
// the plate an exit lane records.

// collectingPlate reports whether a plate read is taken now: while collecting,
// or on an exit lane held before its exit was recorded (the operator typing
// the plate).
func (m *machine) collectingPlate() bool {
	if m.s.Phase == PhaseCollecting {
		return true
	}
	return m.s.Config.Exit && m.s.Phase == PhaseHeld && !m.s.ExitRecorded && m.s.Pending == ""
}

func (m *machine) plateRead(e PlateRead) {
	plate := strings.TrimSpace(e.Plate)
	if plate == "" || !m.collectingPlate() {
		return
	}
	if m.s.Evidence.Plate != "" && e.Confidence < m.s.PlateConfidence {
		return // a worse read of what we already have
	}
	trailer := strings.TrimSpace(e.Trailer)
	same := plate == m.s.Evidence.Plate
	if trailer == "" && same {
		trailer = m.s.Evidence.Trailer
	}
	m.s.Evidence.Plate, m.s.Evidence.Trailer = plate, trailer
	m.plateSeen(e, same)
	m.step("plate")
	m.s.PlateConfidence = e.Confidence
	// Written so that a confidence or minimum that is not a number leaves
	// the read unconfirmed: every comparison with NaN is false.
	m.s.PlateUnconfirmed = !(e.Confidence >= m.s.Config.MinPlateConfidence)
	if m.s.Config.Exit {
		if !m.s.PlateUnconfirmed {
			m.recordExit()
		}
		return
	}
	m.decideIfComplete()
}

func (m *machine) recordExit() {
	m.cancelDeadline()
	m.s.Phase = PhaseDeciding
	m.note("")
	m.emit(RecordExit{Plate: m.s.Evidence.Plate})
}

func (m *machine) cardRead(e CardRead) {
	if m.s.Config.Exit || m.s.Phase != PhaseCollecting {
		return
	}
	id := strings.TrimSpace(e.Person.IDNumber)
	if id == "" {
		return
	}
	ev := &m.s.Evidence
	role := e.Role
	sameAsDriver := ev.Driver != nil && ev.Driver.IDNumber == id
	sameAsEscort := ev.Escort != nil && ev.Escort.IDNumber == id
	// The same card again is ignored, unless a reader of the other role
	// presents it: then the escort is the driver, and the checks say so.
	if (sameAsDriver && role != registry.RoleEscort) || (sameAsEscort && role != registry.RoleDriver) {
		return
	}
	switch role {
	case "":
		switch {
		case ev.Driver == nil:
			role = registry.RoleDriver
		case ev.Escort == nil:
			role = registry.RoleEscort
		default:
			m.note(NoteThirdCard)
			return
		}
	case registry.RoleDriver, registry.RoleEscort:
		if (role == registry.RoleDriver && ev.Driver != nil) || (role == registry.RoleEscort && ev.Escort != nil) {
			m.note(NoteSecondCard, "role", string(role))
			return
		}
	default:
		m.note(NoteUnknownRoleCard, "role", string(role))
		return
	}
	p := clonePerson(&e.Person)
	p.IDNumber = id
	p.Face = nil // the live face's score comes from the face-match service
	if role == registry.RoleDriver {
		ev.Driver, m.s.DriverFace = p, false
	} else {
		ev.Escort, m.s.EscortFace = p, false
	}
	m.step(string(role) + "_card")
	m.emit(MatchFace{Role: role, Person: *clonePerson(p)})
}

func (m *machine) faceScored(e FaceScored) {
	if m.s.Config.Exit || m.s.Phase != PhaseCollecting {
		return
	}
	ev := &m.s.Evidence
	switch {
	case ev.Driver != nil && ev.Driver.IDNumber == e.IDNumber && !m.s.DriverFace:
		p := clonePerson(ev.Driver)
		p.Face = cloneScore(e.Score)
		ev.Driver, m.s.DriverFace = p, true
		m.step(string(registry.RoleDriver) + "_face")
	case ev.Escort != nil && ev.Escort.IDNumber == e.IDNumber && !m.s.EscortFace:
		p := clonePerson(ev.Escort)
		p.Face = cloneScore(e.Score)
		ev.Escort, m.s.EscortFace = p, true
		m.step(string(registry.RoleEscort) + "_face")
	default:
		return
	}
	m.decideIfComplete()
}

func (m *machine) waybillScanned(e WaybillScanned) {
	n := strings.TrimSpace(e.Number)
	if m.s.Config.Exit || m.s.Phase != PhaseCollecting || n == "" {
		return
	}
	m.s.Evidence.Waybill, m.s.Evidence.WaybillSource = n, checks.WaybillScanned
	m.step("waybill")
	m.lookupWaybill()
	m.decideIfComplete()
}

// step notes when a piece of evidence arrived, in a new map: Step never
// changes the State it was given.
func (m *machine) step(name string) {
	steps := maps.Clone(m.s.Evidence.Steps)
	if steps == nil {
		steps = map[string]time.Time{}
	}
	steps[name] = m.now
	m.s.Evidence.Steps = steps
}

func (m *machine) decideIfComplete() {
	if m.s.Phase == PhaseCollecting && len(m.s.Missing()) == 0 {
		m.decide(false)
	}
}

func (m *machine) decide(deadline bool) {
	m.cancelDeadline()
	m.s.Evidence.DeadlineExceeded = deadline
	m.lookupUnanswered()
	m.s.Phase = PhaseDeciding
	m.note("")
	m.emit(Decide{Evidence: cloneEvidence(m.s.Evidence)})
}
