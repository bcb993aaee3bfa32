package lane_test

import (
	"maps"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// TestNoteCodes: each note travels as a code with its arguments, and its
// English (Note) is that code's sentence.
func TestNoteCodes(t *testing.T) {
	cfg := lane.Config{Name: "in-1"}
	tests := []struct {
		name   string
		events []lane.Event
		code   string
		args   map[string]string
		en     string
	}{
		{"held for review", held, lane.NoteVerdictHeld, map[string]string{"verdict": "review"}, "verdict review: waiting for the operator"},
		{"release recording", releasing, lane.NoteReleaseRecording, map[string]string{"operator": "王五"}, "release by 王五 being recorded"},
		{"refused", then(held, refuse), lane.NoteRefused, map[string]string{"operator": "王五", "reason": "escort absent"}, "refused by 王五: escort absent"},
		{"release without a vehicle", []lane.Event{release}, lane.NoteReleaseRefused, map[string]string{"why": lane.WhyNoVehicleHeld}, "release refused: no vehicle is held"},
		{"release in lock-down", then(held, lockOn, release), lane.NoteReleaseRefused, map[string]string{"why": lane.WhyLockdown}, "release refused: the lane is in lock-down"},
		{"refusal after a release", then(releasing, refuse), lane.NoteRefusalNotTaken, map[string]string{"why": lane.WhyReleasePending}, "refusal not taken: a release is already being recorded"},
		{"second refusal", then(held, refuse, refuse), lane.NoteRefusalNotTaken, map[string]string{"why": lane.WhyAlreadyRefused, "operator": "王五"}, "refusal not taken: already refused by 王五"},
		{"third card", then(collecting, lane.CardRead{Person: checks.PersonEvidence{IDNumber: "X1", Name: "王六"}}), lane.NoteThirdCard, nil, "a third ID card was ignored"},
		{"unknown role", []lane.Event{lane.VehiclePresent{}, lane.CardRead{Person: driver.Person, Role: "pilot"}}, lane.NoteUnknownRoleCard, map[string]string{"role": "pilot"}, `a card with unknown role "pilot" was ignored`},
		{"left", then(collecting, lane.VehicleGone{}), lane.NoteVehicleLeft, nil, "vehicle left before the decision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := play(t, cfg, tt.events...)
			if s.NoteCode != tt.code || !maps.Equal(s.NoteArgs, tt.args) || s.Note != tt.en {
				t.Fatalf("note = %s %v %q, want %s %v %q", s.NoteCode, s.NoteArgs, s.Note, tt.code, tt.args, tt.en)
			}
			if snap := s.Snapshot(); snap.NoteCode != tt.code || !maps.Equal(snap.NoteArgs, tt.args) {
				t.Fatalf("snapshot note = %s %v", snap.NoteCode, snap.NoteArgs)
			}
		})
	}
}
