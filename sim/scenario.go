// Package sim runs whole gates on simulated hardware from scenario files: the
// real lane state machine, checks and store, and the gate's real device
// drivers on simulated devices that speak the real protocols (GA 467 readers
// and a scanner on ptys, periph pins, a camera and a face-match service on
// loopback; hardware.go), driven by a fake clock so that verdicts never
// depend on how fast the machine or the -speed flag is. A scenario can break
// the devices (Scenario.Faults). The gate itself is assembled by
// gate.Assemble, as the appliance's is; only the hardware differs.
//
// Only cmd/hazgate (`hazgate sim`) and tests may import it; it may import any
// other package of ours.
package sim

import (
	"errors"
	"fmt"
	"maps"
	"math"
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
// (docs/design.md "Scenario files"; README "Scenario files" walks through it).
type Scenario struct {
	Name     string            `yaml:"name"`
	Clock    Instant           `yaml:"clock"`
	Registry registry.Snapshot `yaml:"registry"`
	Timings  Timings           `yaml:"timings"`
	Settings Settings          `yaml:"settings"`
	// Face is the park's face-match service for the whole run: "" (it
	// works), "down" or "slow".
	Face string `yaml:"face"`
	// Faults are device faults injected during the run.
	Faults   []Fault   `yaml:"faults"`
	Arrivals []Arrival `yaml:"arrivals"`
	// WaybillService is the simulated waybill service (sim/waybill.go).
	WaybillService *WaybillService `yaml:"waybill_service"`
	// Alarms are alarm kinds the gate must raise during the run, each at
	// least once, whatever the lane (an overstay comes hours after its
	// vehicle left the lane): the report fails the run without them.
	Alarms []string `yaml:"alarms"`
	// Evacuation is the gate's evacuation during the run (evacuation.go).
	Evacuation *Evacuation `yaml:"evacuation"`
	// Preclearances are the appointments' pre-clearances the gate must
	// publish before their vehicles arrive (preclear.go).
	Preclearances []PreclearExpect `yaml:"preclearances"`

	file string
}

// Instant is a timestamp with an offset.
type Instant struct{ time.Time }

// UnmarshalYAML reads an RFC 3339 timestamp (YAML timestamp or string).
func (t *Instant) UnmarshalYAML(n *yaml.Node) error {
	v, err := registry.ParseValidity(n.Value)
	if err != nil || v.IsZero() || v.DateOnly() {
		return strictyaml.ValueError(n, "%q is not a timestamp with an offset such as 2026-03-15T09:00:00+08:00", n.Value)
	}
	t.Time = v.Start(time.UTC)
	return nil
}

// Offset is a time from the scenario start or between two steps: a Go
// duration ("5s", "1m30s") or a plain number of seconds.
type Offset time.Duration

// maxOffsetSeconds is the longest offset a time.Duration holds, in seconds.
// Converting a float beyond it (or NaN) to an integer gives a different
// number on each CPU, so such a number is refused, never converted.
const maxOffsetSeconds = float64(math.MaxInt64 / int64(time.Second))

// UnmarshalYAML reads "5s" or 5. A plain number must be finite (not nan or
// inf, which YAML reads as strings here), not negative, and fit.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return strictyaml.ValueError(n, "want a duration such as 5s")
	}
	if f, err := strconv.ParseFloat(n.Value, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case strictyaml.FiniteFloat(f) != nil:
			return strictyaml.ValueError(n, "%q is not a finite number of seconds", n.Value)
		case f < 0:
			return strictyaml.ValueError(n, "%q is negative", n.Value)
		case f >= maxOffsetSeconds:
			return strictyaml.ValueError(n, "%q is too long: at most %v", n.Value, time.Duration(math.MaxInt64).Truncate(time.Hour))
		}
		*o = Offset(f * float64(time.Second))
	} else if d, err := time.ParseDuration(n.Value); err == nil {
		*o = Offset(d)
	} else {
		return strictyaml.ValueError(n, "%q is not a duration such as 5s or 1m30s", n.Value)
	}
	if *o < 0 {
		return strictyaml.ValueError(n, "%q is negative", n.Value)
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
	// WaybillAt, when given, has the waybill scanned this long after
	// arrival, while the people present their cards, instead of after the
	// escort's face (the driver shows the waybill's QR code on arrival).
	WaybillAt *Offset `yaml:"waybill_at"`
}

// DefaultTimings are the defaults of docs/design.md "Scenario files". Their
// sum up to the barrier command, 21 s, is the floor the inspection-time
// benchmark compares with.
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
	return Timings{Plate: pick(t.Plate, def.Plate), DriverCard: pick(t.DriverCard, def.DriverCard), Face: pick(t.Face, def.Face),
		EscortCard: pick(t.EscortCard, def.EscortCard), Waybill: pick(t.Waybill, def.Waybill), BarrierOpen: pick(t.BarrierOpen, def.BarrierOpen),
		Clear: pick(t.Clear, def.Clear), Leave: pick(t.Leave, def.Leave), WaybillAt: t.WaybillAt}
}

// Floor is the simulated human and device time from arrival to the moment the
// gate has all its evidence.
func (t Timings) Floor() time.Duration {
	m := t.merged()
	if m.WaybillAt != nil {
		return max(m.DriverCard.D()+m.Face.D()+m.EscortCard.D()+m.Face.D(), m.WaybillAt.D())
	}
	return m.DriverCard.D() + m.Face.D() + m.EscortCard.D() + m.Face.D() + m.Waybill.D()
}

// Settings override the gate's configuration for this scenario.
type Settings struct {
	Timezone       string           `yaml:"timezone"`
	Deadline       *config.Duration `yaml:"deadline"`
	FaceThreshold  *float64         `yaml:"face_threshold"`
	RegistryMaxAge *config.Duration `yaml:"registry_max_age"`
	OpenHours      string           `yaml:"open_hours"`
	// PlateCamera is every lane's plate camera's push format: json (the
	// default), hikvision or dahua; PlateCameraSilence the gate's
	// plate_camera.silence for the vendors' cameras (left out: not
	// watched); RequirePlacard the checks' require_placard (sim/plate.go).
	PlateCamera        string           `yaml:"plate_camera"`
	PlateCameraSilence *config.Duration `yaml:"plate_camera_silence"`
	RequirePlacard     bool             `yaml:"require_placard"`
	// WeightTolerance is checks.weight_tolerance (default 0.05).
	WeightTolerance *float64 `yaml:"weight_tolerance"`
	// Appointments is checks.appointments: off, optional or required.
	Appointments string `yaml:"appointments"`
	// MaxStay is presence.max_stay (default 6h).
	MaxStay *config.Duration `yaml:"max_stay"`
}

// Arrival is one vehicle coming to a lane.
type Arrival struct {
	At      Offset `yaml:"at"`
	Lane    string `yaml:"lane"`
	Plate   string `yaml:"plate"`
	Trailer string `yaml:"trailer"`
	// PlateColor is the colour the camera reads on the plate (a GA 36
	// colour, registry.PlateColors); Placard whether it sees the danger
	// mark (left out: it cannot tell).
	PlateColor string     `yaml:"plate_color"`
	Placard    *bool      `yaml:"placard"`
	Driver     *Presenter `yaml:"driver"`
	Escort     *Presenter `yaml:"escort"`
	Waybill    string     `yaml:"waybill"`
	// GrossKg is what the vehicle weighs on the lane's weighbridge (a
	// lane has one when an arrival there gives it; scale.go).
	GrossKg  *float64      `yaml:"gross_kg"`
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
	// Crossed, when given, is whether the vehicle drove through the
	// barrier.
	Crossed *bool `yaml:"crossed" json:"crossed,omitempty"`
	// Alarms, when given, is the exact set of alarm kinds committed on the
	// vehicle's lane while it was there (from pulling up to leaving).
	Alarms *[]string `yaml:"alarms" json:"alarms,omitempty"`
	// Waybill and WaybillSource, when given, are the waybill judged and
	// how it was found (scanned, by_plate).
	Waybill       string `yaml:"waybill" json:"waybill,omitempty"`
	WaybillSource string `yaml:"waybill_source" json:"waybill_source,omitempty"`
}

// Fault is a device fault injected during the run: the scenario's
// `faults: [{at, device, kind, for}]`.
type Fault struct {
	At     *Offset `yaml:"at"`     // from the scenario start
	Device string  `yaml:"device"` // <lane>/idcard, <lane>/escort_idcard, <lane>/scanner, <lane>/camera, <lane>/barrier, or face
	Kind   string  `yaml:"kind"`   // per device: see FaultKinds
	For    *Offset `yaml:"for"`    // how long it lasts (absent: to the end of the run)
}

// FaceDevice is the device name of the park's face-match service in faults.
const FaceDevice = "face"

// ClockDevice is the gate's clock in faults: `{device: clock, kind:
// unsynced}` makes it not synchronised (sim/clockfault.go); without such
// a fault the simulated clock is synchronised.
const ClockDevice = "clock"

// FaultKinds are the fault kinds each kind of device takes: a device is
// <lane>/<kind of device> (entry lanes only, but for the barrier), or face.
var FaultKinds = map[string][]string{
	"idcard":        {"unplug", "noise", "silence"},
	"escort_idcard": {"unplug", "noise", "silence"},
	"scanner":       {"unplug"},
	"scale":         {"unplug", "noise", "unstable"},
	"camera":        {"down"},
	"plate_camera":  {faultSilent},
	"barrier":       {"jam"},
	"voice":         {"unplug"},
	FaceDevice:      {"down", "slow"},
	ClockDevice:     {"unsynced"},
}

// AlarmKinds are the alarm kinds an expectation may name.
var AlarmKinds = []string{"barrier_command_failed", "barrier_fault", "barrier_forced", "decide_failed", "device_fault", "double_entry", "exempt_entry", "no_passage", "operator_override", "overstay", "record_failed", "rejection"}

// splitDevice splits a fault's device into its lane ("" for the face
// service) and its kind of device.
func splitDevice(dev string) (laneName, kind string) {
	if dev == FaceDevice || dev == ClockDevice {
		return "", dev
	}
	laneName, kind, ok := strings.Cut(dev, "/")
	if !ok {
		return "", ""
	}
	return laneName, kind
}

// end is when the fault ends, or false when it lasts to the end of the run.
func (f Fault) end() (time.Duration, bool) {
	if f.For == nil {
		return 0, false
	}
	return f.At.D() + f.For.D(), true
}

// AllFaults returns the faults with the top-level face setting as a fault
// on the face service from the start, in order of their start.
func (s *Scenario) AllFaults() []Fault {
	var out []Fault
	if s.Face != "" {
		zero := Offset(0)
		out = append(out, Fault{At: &zero, Device: FaceDevice, Kind: s.Face})
	}
	out = append(out, s.Faults...)
	slices.SortStableFunc(out, func(a, b Fault) int { return cmpOffset(a.At, b.At) })
	return out
}

func cmpOffset(a, b *Offset) int {
	var x, y Offset
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
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
// the file, line and field. A registry: section written in block style is
// read as a stream (scenario_registry.go); the scenario is the same as if
// parsed whole.
func Parse(data []byte, file string) (*Scenario, error) {
	if s, ok := parseCut(data, file); ok {
		return s, nil
	}
	return parseWhole(data, file)
}

// parseCut reads a scenario whose registry: section cutRegistry cuts out,
// the section as a stream; false when it does not cut, or either part is
// refused (for the whole parse to say why, as it always has).
func parseCut(data []byte, file string) (*Scenario, bool) {
	c, ok := cutRegistry(data)
	if !ok {
		return nil, false
	}
	doc, err := strictyaml.Parse(c.rest, file)
	if err != nil || !doc.Has("registry") || doc.Line("registry") != c.line {
		// Not the top-level key it looked like (a line of a quoted
		// scalar, say), or a rest that does not parse.
		return nil, false
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		return nil, false
	}
	if s.Registry, err = c.stream(file); err != nil {
		return nil, false
	}
	s.file = file
	if err := s.validate(doc, false); err != nil {
		return nil, false
	}
	return &s, true
}

// parseWhole reads a scenario as one node tree.
func parseWhole(data []byte, file string) (*Scenario, error) {
	doc, err := strictyaml.Parse(data, file)
	if err != nil {
		return nil, err
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		return nil, err
	}
	s.file = file
	if err := s.validate(doc, true); err != nil {
		return nil, err
	}
	return &s, nil
}

// validate checks the scenario; the registry too when withRegistry (a
// streamed registry was validated as it was read).
func (s *Scenario) validate(doc *strictyaml.Doc, withRegistry bool) error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, doc.Errorf(field, format, args...)) }
	if s.Name == "" {
		bad("name", "missing")
	}
	if s.Clock.IsZero() {
		bad("clock", "missing: the simulated wall clock at t=0, e.g. 2026-03-15T09:00:00+08:00")
	}
	s.validateEvacuation(bad) // evacuation.go
	if withRegistry {
		for _, p := range s.Registry.Validate() {
			bad("registry."+p.Field, "%s", p.Msg)
		}
	}
	if s.Settings.Timezone != "" {
		if _, err := time.LoadLocation(s.Settings.Timezone); err != nil {
			bad("settings.timezone", "%q is not a time zone", s.Settings.Timezone)
		}
	}
	// Ranges are written so that NaN, which strictyaml.Parse already
	// refuses, could not pass them either.
	if t := s.Settings.FaceThreshold; t != nil && !(*t > 0 && *t <= 1) {
		bad("settings.face_threshold", "%v is not in (0, 1]", *t)
	}
	if t := s.Settings.WeightTolerance; t != nil && !(*t >= 0 && *t < 1) {
		bad("settings.weight_tolerance", "%v is not in [0, 1)", *t)
	}
	for _, d := range []struct {
		field string
		d     *config.Duration
	}{{"settings.deadline", s.Settings.Deadline}, {"settings.registry_max_age", s.Settings.RegistryMaxAge}, {"settings.max_stay", s.Settings.MaxStay}} {
		if d.d != nil && *d.d <= 0 {
			bad(d.field, "%v: must be more than 0", d.d.D())
		}
	}
	s.validateWaybillService(bad)
	s.validatePreclear(bad) // preclear.go
	for i, k := range s.Alarms {
		if !slices.Contains(AlarmKinds, k) {
			bad(fmt.Sprintf("alarms[%d]", i), "%q is not an alarm kind (%s)", k, strings.Join(AlarmKinds, ", "))
		}
	}
	if _, err := config.ParseHours(s.Settings.OpenHours); err != nil {
		bad("settings.open_hours", "%v", err)
	}
	if len(s.Arrivals) == 0 {
		bad("arrivals", "at least one arrival")
	}
	if s.Face != "" && !slices.Contains(FaultKinds[FaceDevice], s.Face) {
		bad("face", "%q is not down or slow", s.Face)
	}
	s.validateFaults(bad)
	s.validatePlate(bad) // plate.go
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
			if p.Face != nil && !(*p.Face >= 0 && *p.Face <= 1) {
				bad(f+"."+role+".face", "%v is not a score in [0, 1]", *p.Face)
			}
		}
		if g := a.GrossKg; g != nil {
			switch {
			case IsExit(a.Lane):
				bad(f+".gross_kg", "exit lane %s weighs nothing", a.Lane)
			case !(*g >= 0 && *g <= MaxGrossKg):
				bad(f+".gross_kg", "%v is not a weight in kg from 0 to %d (six digits on the indicator)", *g, MaxGrossKg)
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
			if e.Alarms != nil {
				for j, k := range *e.Alarms {
					if !slices.Contains(AlarmKinds, k) {
						bad(fmt.Sprintf("%s.expect.alarms[%d]", f, j), "%q is not an alarm kind (%s)", k, strings.Join(AlarmKinds, ", "))
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

// validateFaults checks each fault's device, kind and times, and that two
// faults of one device do not overlap (the face setting counts as a fault
// of the face service for the whole run).
func (s *Scenario) validateFaults(bad func(field, format string, args ...any)) {
	lanes := s.Lanes()
	type span struct {
		i        int
		from, to time.Duration
		open     bool
	}
	spans := map[string][]span{}
	if s.Face != "" {
		spans[FaceDevice] = append(spans[FaceDevice], span{i: -1, open: true})
	}
	for i, fl := range s.Faults {
		f := fmt.Sprintf("faults[%d]", i)
		laneName, kind := splitDevice(fl.Device)
		kinds, known := FaultKinds[kind]
		switch {
		case fl.Device == "":
			bad(f+".device", "missing: <lane>/idcard, <lane>/escort_idcard, <lane>/scanner, <lane>/camera, <lane>/barrier, face or clock")
			continue
		case !known || gateWide(kind) != (laneName == ""):
			bad(f+".device", "%q is not <lane>/idcard, <lane>/escort_idcard, <lane>/scanner, <lane>/camera, <lane>/barrier, face or clock", fl.Device)
			continue
		case !gateWide(kind) && !slices.Contains(lanes, laneName):
			bad(f+".device", "%q: no arrival uses lane %q", fl.Device, laneName)
			continue
		case !gateWide(kind) && kind != "barrier" && kind != "voice" && IsExit(laneName):
			bad(f+".device", "%q: exit lane %s has no %s", fl.Device, laneName, kind)
			continue
		}
		if !slices.Contains(kinds, fl.Kind) {
			bad(f+".kind", "%q is not a fault of %s (%s)", fl.Kind, fl.Device, strings.Join(kinds, ", "))
		}
		if fl.At == nil {
			bad(f+".at", "missing: when the fault starts, from the scenario start")
			continue
		}
		if fl.For != nil && *fl.For <= 0 {
			bad(f+".for", "must be more than 0 (leave it out for a fault that lasts to the end)")
			continue
		}
		to, ends := fl.end()
		spans[fl.Device] = append(spans[fl.Device], span{i: i, from: fl.At.D(), to: to, open: !ends})
	}
	for _, dev := range slices.Sorted(maps.Keys(spans)) {
		ss := spans[dev]
		for a := range ss {
			for b := a + 1; b < len(ss); b++ {
				x, y := ss[a], ss[b]
				if (x.open || y.from < x.to) && (y.open || x.from < y.to) {
					where := fmt.Sprintf("faults[%d]", y.i)
					other := fmt.Sprintf("faults[%d]", x.i)
					if x.i < 0 {
						other = "the top-level face setting"
					}
					bad(where, "overlaps %s: one fault of %s at a time", other, dev)
				}
			}
		}
	}
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
