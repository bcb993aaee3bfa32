// Package sim runs whole gates on simulated hardware from scenario files: the
// real lane state machine, checks and store, driven by a fake clock so that
// verdicts never depend on how fast the machine or the -speed flag is.
package sim

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/strictyaml"
)

// Scenario is one simulator input file; its format is a stable contract
// (DESIGN.md "Scenario files", README "Scenario files").
type Scenario struct {
	Name     string            `yaml:"name"`
	Clock    Instant           `yaml:"clock"`
	Registry registry.Snapshot `yaml:"registry"`
	Timings  Timings           `yaml:"timings"`
	Settings Settings          `yaml:"settings"`
	Arrivals []Arrival         `yaml:"arrivals"`

	file string
}

// Instant is a timestamp with an offset.
type Instant struct{ time.Time }

// UnmarshalYAML reads an RFC 3339 timestamp (YAML timestamp or string).
func (t *Instant) UnmarshalYAML(n *yaml.Node) error {
	v, err := registry.ParseValidity(n.Value)
	if err != nil || v.IsZero() || v.DateOnly() {
		return fmt.Errorf("line %d: %q is not a timestamp with an offset such as 2026-03-15T09:00:00+08:00", n.Line, n.Value)
	}
	t.Time = v.Start(time.UTC)
	return nil
}

// Offset is a time from the scenario start or between two steps: a Go
// duration ("5s", "1m30s") or a plain number of seconds.
type Offset time.Duration

// UnmarshalYAML reads "5s" or 5.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 5s", n.Line)
	}
	if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*o = Offset(f * float64(time.Second))
	} else if d, err := time.ParseDuration(n.Value); err == nil {
		*o = Offset(d)
	} else {
		return fmt.Errorf("line %d: %q is not a duration such as 5s or 1m30s", n.Line, n.Value)
	}
	if *o < 0 {
		return fmt.Errorf("line %d: %q is negative", n.Line, n.Value)
	}
	return nil
}

// D is the offset as a time.Duration.
func (o Offset) D() time.Duration { return time.Duration(o) }

// Timings are how long simulated people and devices take. Each card, face and
// scan follows the one before it; the plate is read in parallel.
type Timings struct {
	Plate       *Offset `yaml:"plate"`        // plate read, after arrival (1s)
	DriverCard  *Offset `yaml:"driver_card"`  // driver's card, after arrival (8s)
	Face        *Offset `yaml:"face"`         // each face capture, after its card (1s)
	EscortCard  *Offset `yaml:"escort_card"`  // escort's card, after the driver's face (6s)
	Waybill     *Offset `yaml:"waybill"`      // waybill scan, after the escort's face (5s)
	BarrierOpen *Offset `yaml:"barrier_open"` // barrier travel time (3s)
	Clear       *Offset `yaml:"clear"`        // vehicle clear of the loop after the barrier is open (6s)
	Leave       *Offset `yaml:"leave"`        // a held vehicle turns away, after the verdict (10s)
}

// DefaultTimings are DESIGN.md's defaults. Their sum up to the barrier
// command, 21 s, is the floor the inspection-time benchmark compares with.
func DefaultTimings() Timings {
	o := func(s int) *Offset { v := Offset(time.Duration(s) * time.Second); return &v }
	return Timings{Plate: o(1), DriverCard: o(8), Face: o(1), EscortCard: o(6), Waybill: o(5), BarrierOpen: o(3), Clear: o(6), Leave: o(10)}
}

func (t Timings) merged() Timings {
	def := DefaultTimings()
	pick := func(a, b *Offset) *Offset {
		if a != nil {
			return a
		}
		return b
	}
	return Timings{pick(t.Plate, def.Plate), pick(t.DriverCard, def.DriverCard), pick(t.Face, def.Face), pick(t.EscortCard, def.EscortCard),
		pick(t.Waybill, def.Waybill), pick(t.BarrierOpen, def.BarrierOpen), pick(t.Clear, def.Clear), pick(t.Leave, def.Leave)}
}

// Floor is the simulated human and device time from arrival to the moment the
// gate has all its evidence.
func (t Timings) Floor() time.Duration {
	m := t.merged()
	return m.DriverCard.D() + m.Face.D() + m.EscortCard.D() + m.Face.D() + m.Waybill.D()
}

// Settings override the gate's configuration for this scenario.
type Settings struct {
	Timezone       string           `yaml:"timezone"`
	Deadline       *config.Duration `yaml:"deadline"`
	FaceThreshold  *float64         `yaml:"face_threshold"`
	RegistryMaxAge *config.Duration `yaml:"registry_max_age"`
	OpenHours      string           `yaml:"open_hours"`
}

// Arrival is one vehicle coming to a lane.
type Arrival struct {
	At       Offset        `yaml:"at"`
	Lane     string        `yaml:"lane"`
	Plate    string        `yaml:"plate"`
	Trailer  string        `yaml:"trailer"`
	Driver   *Presenter    `yaml:"driver"`
	Escort   *Presenter    `yaml:"escort"`
	Waybill  string        `yaml:"waybill"`
	Operator *OperatorStep `yaml:"operator"`
	Expect   *Expect       `yaml:"expect"`
}

// Presenter is a person presenting their ID card; card fields override the
// registry person's (to present an expired card, say).
type Presenter struct {
	IDNumber       string             `yaml:"id_number"`
	Face           *float64           `yaml:"face"`
	Name           string             `yaml:"name"`
	CardValidFrom  *registry.Validity `yaml:"card_valid_from"`
	CardValidUntil *registry.Validity `yaml:"card_valid_until"`
}

// OperatorStep is what the simulated operator does with a held vehicle.
type OperatorStep struct {
	Action string `yaml:"action"` // release or refuse
	After  Offset `yaml:"after"`  // after the verdict
	Reason string `yaml:"reason"`
	Name   string `yaml:"name"`
}

// Expect is what the scenario's author expects the gate to decide.
type Expect struct {
	Verdict checks.Verdict `yaml:"verdict" json:"verdict"`
	Failed  *[]string      `yaml:"failed" json:"failed,omitempty"`
}

// Load reads a scenario file strictly.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a scenario; unknown keys and bad values are errors that name
// the file, line and field.
func Parse(data []byte, file string) (*Scenario, error) {
	doc, err := strictyaml.Parse(data, file)
	if err != nil {
		return nil, err
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		return nil, err
	}
	s.file = file
	if err := s.validate(doc); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Scenario) validate(doc *strictyaml.Doc) error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, doc.Errorf(field, format, args...)) }
	if s.Name == "" {
		bad("name", "missing")
	}
	if s.Clock.IsZero() {
		bad("clock", "missing: the simulated wall clock at t=0, e.g. 2026-03-15T09:00:00+08:00")
	}
	for _, p := range s.Registry.Validate() {
		bad("registry."+p.Field, "%s", p.Msg)
	}
	if s.Settings.Timezone != "" {
		if _, err := time.LoadLocation(s.Settings.Timezone); err != nil {
			bad("settings.timezone", "%q is not a time zone", s.Settings.Timezone)
		}
	}
	if t := s.Settings.FaceThreshold; t != nil && (*t <= 0 || *t > 1) {
		bad("settings.face_threshold", "%v is not in (0, 1]", *t)
	}
	if _, err := config.ParseHours(s.Settings.OpenHours); err != nil {
		bad("settings.open_hours", "%v", err)
	}
	if len(s.Arrivals) == 0 {
		bad("arrivals", "at least one arrival")
	}
	for i, a := range s.Arrivals {
		f := fmt.Sprintf("arrivals[%d]", i)
		if a.Lane == "" {
			bad(f+".lane", "missing")
		} else if strings.ContainsAny(a.Lane, " /#+") {
			bad(f+".lane", "%q: no spaces, / # or +", a.Lane)
		}
		if a.Plate == "" && !strings.HasPrefix(a.Lane, "out") && a.Driver == nil && a.Escort == nil && a.Waybill == "" {
			bad(f, "an arrival presents nothing at all")
		}
		for _, rp := range []struct {
			role string
			p    *Presenter
		}{{"driver", a.Driver}, {"escort", a.Escort}} {
			role, p := rp.role, rp.p
			if p == nil {
				continue
			}
			if p.IDNumber == "" {
				bad(f+"."+role+".id_number", "missing")
			}
			if p.Face != nil && (*p.Face < 0 || *p.Face > 1) {
				bad(f+"."+role+".face", "%v is not a score in [0, 1]", *p.Face)
			}
		}
		if o := a.Operator; o != nil {
			if o.Action != "release" && o.Action != "refuse" {
				bad(f+".operator.action", "%q is not release or refuse", o.Action)
			}
			if strings.TrimSpace(o.Reason) == "" {
				bad(f+".operator.reason", "missing: a decision needs a reason")
			}
		}
		if e := a.Expect; e != nil {
			switch e.Verdict {
			case checks.VerdictPass, checks.VerdictReject, checks.VerdictReview:
			default:
				bad(f+".expect.verdict", "%q is not pass, reject or review", e.Verdict)
			}
			if e.Failed != nil {
				for j, id := range *e.Failed {
					if !slices.Contains(checks.IDs, id) {
						bad(fmt.Sprintf("%s.expect.failed[%d]", f, j), "%q is not a check (%s)", id, strings.Join(checks.IDs, ", "))
					}
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// Lanes returns the distinct lane names in order of first appearance.
func (s *Scenario) Lanes() []string {
	var out []string
	for _, a := range s.Arrivals {
		if !slices.Contains(out, a.Lane) {
			out = append(out, a.Lane)
		}
	}
	return out
}

// IsExit reports whether a lane name is an exit lane (it starts with "out").
func IsExit(lane string) bool { return strings.HasPrefix(lane, "out") }
