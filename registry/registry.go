// Package registry holds the park's registry records (vehicles, tanks, persons
// and their certificates, waybills, the blacklist), their strict YAML/JSON
// schema, and an in-memory index that the checks read.
//
// It imports only idnumber and strictyaml of ours; checks, store and every
// package above them may import it.
package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hazgate/hazgate/strictyaml"
)

// Vehicle kinds.
const (
	KindTractor = "tractor" // pulls a trailer, or carries a tank itself (a rigid tanker)
	KindTrailer = "trailer"
	KindRigid   = "rigid" // a rigid tank truck: the tank sits on it
)

// Role is a person's role on a dangerous-goods vehicle: what a certificate
// qualifies them for, and who presents a card at a lane's reader.
type Role string

// The roles.
const (
	RoleDriver Role = "driver"
	RoleEscort Role = "escort"
)

// Blacklist kinds.
const (
	BlacklistVehicle = "vehicle"
	BlacklistPerson  = "person"
	BlacklistCarrier = "carrier"
)

// Snapshot is a whole registry: what `hazgate registry import` loads and what
// a scenario's `registry:` holds.
type Snapshot struct {
	Version   int64            `yaml:"version,omitempty" json:"version,omitempty"`
	Vehicles  []Vehicle        `yaml:"vehicles" json:"vehicles"`
	Tanks     []Tank           `yaml:"tanks" json:"tanks"`
	Persons   []Person         `yaml:"persons" json:"persons"`
	Waybills  []Waybill        `yaml:"waybills" json:"waybills"`
	Blacklist []BlacklistEntry `yaml:"blacklist" json:"blacklist"`
	// Appointments are the destination companies' approvals
	// (appointments.go).
	Appointments []Appointment `yaml:"appointments,omitempty" json:"appointments,omitempty"`
	SyncedAt     Validity      `yaml:"synced_at,omitempty" json:"synced_at,omitempty"`
}

// Vehicle is a tractor, trailer or rigid truck with its licence (行驶证),
// road-transport permit (道路运输证) and inspection validity.
type Vehicle struct {
	Plate                string   `yaml:"plate" json:"plate"`
	Kind                 string   `yaml:"kind" json:"kind"`
	Carrier              string   `yaml:"carrier,omitempty" json:"carrier,omitempty"`
	LicenceValidUntil    Validity `yaml:"licence_valid_until" json:"licence_valid_until"`
	PermitNo             string   `yaml:"permit_no" json:"permit_no"`
	PermitValidUntil     Validity `yaml:"permit_valid_until" json:"permit_valid_until"`
	PermitClasses        []string `yaml:"permit_classes" json:"permit_classes"`
	InspectionValidUntil Validity `yaml:"inspection_valid_until" json:"inspection_valid_until"`
	RatedLoadKg          float64  `yaml:"rated_load_kg" json:"rated_load_kg"`
	// PlateColor is the plate's colour (PlateColors: blue, yellow...);
	// empty when the registry does not say. A camera read of another
	// colour fails vehicle_documents (plate_color_mismatch).
	PlateColor string `yaml:"plate_color,omitempty" json:"plate_color,omitempty"`
	// CurbWeightKg (整备质量) and MaxGrossKg (the most it may weigh laden:
	// for a tractor, the whole combination's) are optional (0: not given);
	// a lane with a weighbridge judges them (docs/design.md).
	CurbWeightKg float64 `yaml:"curb_weight_kg,omitempty" json:"curb_weight_kg,omitempty"`
	MaxGrossKg   float64 `yaml:"max_gross_kg,omitempty" json:"max_gross_kg,omitempty"`
	// Emergency marks an emergency vehicle (fire, rescue, ambulance,
	// police: EmergencyKinds) that an entry lane lets in on its plate read
	// alone, with an exempt_entry alarm (docs/design.md, "Emergency
	// vehicles"); empty for every other vehicle.
	Emergency string `yaml:"emergency,omitempty" json:"emergency,omitempty"`
}

// EmergencyKinds are the kinds of emergency vehicles the registry may
// exempt from the checks.
var EmergencyKinds = []string{"fire", "rescue", "ambulance", "police"}

// Tank is a tank (罐体) registered to the vehicle that carries it, with its
// list of suitable media (适装介质) by UN number.
type Tank struct {
	ID                   string   `yaml:"id" json:"id"`
	Vehicle              string   `yaml:"vehicle" json:"vehicle"`
	InspectionValidUntil Validity `yaml:"inspection_valid_until" json:"inspection_valid_until"`
	Media                []string `yaml:"media" json:"media"`
}

// Person is a driver or escort as the registry knows them.
type Person struct {
	IDNumber       string        `yaml:"id_number" json:"id_number"`
	Name           string        `yaml:"name" json:"name"`
	Gender         string        `yaml:"gender,omitempty" json:"gender,omitempty"`
	Nation         string        `yaml:"nation,omitempty" json:"nation,omitempty"`
	Birth          Validity      `yaml:"birth,omitempty" json:"birth,omitempty"`
	Address        string        `yaml:"address,omitempty" json:"address,omitempty"`
	Authority      string        `yaml:"authority,omitempty" json:"authority,omitempty"`
	CardValidFrom  Validity      `yaml:"card_valid_from,omitempty" json:"card_valid_from,omitempty"`
	CardValidUntil Validity      `yaml:"card_valid_until,omitempty" json:"card_valid_until,omitempty"`
	Certificates   []Certificate `yaml:"certificates" json:"certificates"`
}

// Certificate is a dangerous-goods qualification certificate (从业资格证).
type Certificate struct {
	Role       Role     `yaml:"role" json:"role"`
	Number     string   `yaml:"number" json:"number"`
	ValidFrom  Validity `yaml:"valid_from,omitempty" json:"valid_from,omitempty"`
	ValidUntil Validity `yaml:"valid_until" json:"valid_until"`
}

// Waybill is an electronic waybill (电子运单).
type Waybill struct {
	Number     string   `yaml:"number" json:"number"`
	Vehicle    string   `yaml:"vehicle" json:"vehicle"`
	Trailer    string   `yaml:"trailer,omitempty" json:"trailer,omitempty"`
	Driver     string   `yaml:"driver" json:"driver"`
	Escort     string   `yaml:"escort" json:"escort"`
	Carrier    string   `yaml:"carrier,omitempty" json:"carrier,omitempty"`
	ValidFrom  Validity `yaml:"valid_from" json:"valid_from"`
	ValidUntil Validity `yaml:"valid_until" json:"valid_until"`
	Goods      []Good   `yaml:"goods" json:"goods"`
	// Status is valid, cancelled or completed (waybill.go); absent: valid.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
}

// Good is one line of a waybill's cargo.
type Good struct {
	UN         string  `yaml:"un" json:"un"`
	Name       string  `yaml:"name" json:"name"`
	Class      string  `yaml:"class" json:"class"`
	QuantityKg float64 `yaml:"quantity_kg" json:"quantity_kg"`
}

// BlacklistEntry bars a vehicle (by plate), a person (by ID number) or a
// carrier (by name).
type BlacklistEntry struct {
	Kind   string `yaml:"kind" json:"kind"`
	Value  string `yaml:"value" json:"value"`
	Reason string `yaml:"reason" json:"reason"`
}

// Meta is the registry's version and when it was last synced.
type Meta struct {
	Version  int64
	SyncedAt time.Time
}

// Problem is one mistake in a snapshot, at a field path such as
// "vehicles[2].permit_classes".
type Problem struct {
	Field string
	Msg   string
}

// Validate returns every mistake in s. Cross references (a tank's vehicle, a
// waybill's people) are not required to exist: the checks judge those.
func (s *Snapshot) Validate() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	plates := map[string]int{}
	for i, v := range s.Vehicles {
		f := fmt.Sprintf("vehicles[%d]", i)
		if msg := PlateProblem(v.Plate); msg != "" {
			add(f+".plate", "%s", msg)
		} else if j, dup := plates[NormalizePlate(v.Plate)]; dup {
			add(f+".plate", "%s is already vehicles[%d]", v.Plate, j)
		} else {
			plates[NormalizePlate(v.Plate)] = i
		}
		switch v.Kind {
		case KindTractor, KindTrailer, KindRigid:
		case "":
			add(f+".kind", "missing (tractor, trailer or rigid)")
		default:
			add(f+".kind", "%q is not tractor, trailer or rigid", v.Kind)
		}
		for j, c := range v.PermitClasses {
			if !validClass(c) {
				add(fmt.Sprintf("%s.permit_classes[%d]", f, j), "%q is not a dangerous-goods class such as 2 or 2.1", c)
			}
		}
		if v.RatedLoadKg < 0 || !strictyaml.IsFinite(v.RatedLoadKg) {
			add(f+".rated_load_kg", "%v is not a weight", v.RatedLoadKg)
		}
		if v.Emergency != "" && !slices.Contains(EmergencyKinds, v.Emergency) {
			add(f+".emergency", "%q is not an emergency vehicle's kind (%s)", v.Emergency, strings.Join(EmergencyKinds, ", "))
		}
		if c, ok := PlateColor(v.PlateColor); v.PlateColor != "" && (!ok || c != v.PlateColor) {
			add(f+".plate_color", "%q is not a plate colour (%s)", v.PlateColor, strings.Join(PlateColors, ", "))
		}
		for _, w := range []struct {
			field string
			kg    float64
		}{{".curb_weight_kg", v.CurbWeightKg}, {".max_gross_kg", v.MaxGrossKg}} {
			if msg := optionalWeight(w.kg); msg != "" {
				add(f+w.field, "%v %s", w.kg, msg)
			}
		}
	}
	tanks := map[string]int{}
	for i, t := range s.Tanks {
		f := fmt.Sprintf("tanks[%d]", i)
		if t.ID == "" {
			add(f+".id", "missing")
		} else if j, dup := tanks[t.ID]; dup {
			add(f+".id", "%s is already tanks[%d]", t.ID, j)
		} else {
			tanks[t.ID] = i
		}
		if msg := PlateProblem(t.Vehicle); msg != "" {
			add(f+".vehicle", "%s", msg)
		}
		for j, m := range t.Media {
			if !validUN(m) {
				add(fmt.Sprintf("%s.media[%d]", f, j), "%q is not a UN number such as UN1077", m)
			}
		}
	}
	persons := map[string]int{}
	for i, p := range s.Persons {
		f := fmt.Sprintf("persons[%d]", i)
		if msg := IDProblem(p.IDNumber); msg != "" {
			add(f+".id_number", "%s", msg)
		} else {
			if j, dup := persons[p.IDNumber]; dup {
				add(f+".id_number", "%s is already persons[%d]", p.IDNumber, j)
			}
			persons[p.IDNumber] = i
		}
		for j, c := range p.Certificates {
			cf := fmt.Sprintf("%s.certificates[%d]", f, j)
			if c.Role != RoleDriver && c.Role != RoleEscort {
				add(cf+".role", "%q is not driver or escort", c.Role)
			}
			if c.ValidUntil.IsZero() {
				add(cf+".valid_until", "missing")
			}
		}
	}
	waybills := map[string]int{}
	for i, w := range s.Waybills {
		f := fmt.Sprintf("waybills[%d]", i)
		if w.Number == "" {
			add(f+".number", "missing")
		} else if j, dup := waybills[w.Number]; dup {
			add(f+".number", "%s is already waybills[%d]", w.Number, j)
		} else {
			waybills[w.Number] = i
		}
		if msg := PlateProblem(w.Vehicle); msg != "" {
			add(f+".vehicle", "%s", msg)
		}
		if msg := PlateProblem(w.Trailer); w.Trailer != "" && msg != "" {
			add(f+".trailer", "%s", msg)
		}
		for _, p := range []struct{ field, id string }{{"driver", w.Driver}, {"escort", w.Escort}} {
			if msg := IDProblem(p.id); p.id != "" && msg != "" {
				add(f+"."+p.field, "%s", msg)
			}
		}
		if w.ValidFrom.IsZero() {
			add(f+".valid_from", "missing")
		} else if msg := validityOrder(w.ValidFrom, w.ValidUntil); msg != "" {
			add(f+".valid_from", "%s", msg)
		}
		if w.ValidUntil.IsZero() {
			add(f+".valid_until", "missing")
		}
		if len(w.Goods) == 0 {
			add(f+".goods", "a waybill carries at least one good")
		}
		if msg := WaybillStatusProblem(w.Status); msg != "" {
			add(f+".status", "%s", msg)
		}
		for j, g := range w.Goods {
			gf := fmt.Sprintf("%s.goods[%d]", f, j)
			if !validUN(g.UN) {
				add(gf+".un", "%q is not a UN number such as UN1077", g.UN)
			}
			if !validClass(g.Class) {
				add(gf+".class", "%q is not a dangerous-goods class such as 2.1", g.Class)
			}
			if g.QuantityKg < 0 || !strictyaml.IsFinite(g.QuantityKg) {
				add(gf+".quantity_kg", "%v is not a quantity", g.QuantityKg)
			}
		}
	}
	validateAppointments(s.Appointments, add)
	for i, b := range s.Blacklist {
		f := fmt.Sprintf("blacklist[%d]", i)
		if !slices.Contains([]string{BlacklistVehicle, BlacklistPerson, BlacklistCarrier}, b.Kind) {
			add(f+".kind", "%q is not vehicle, person or carrier", b.Kind)
		}
		switch {
		case b.Value == "":
			add(f+".value", "missing")
		case b.Kind == BlacklistVehicle:
			if msg := PlateProblem(b.Value); msg != "" {
				add(f+".value", "%s", msg)
			}
		case b.Kind == BlacklistPerson:
			if msg := IDProblem(b.Value); msg != "" {
				add(f+".value", "%s", msg)
			}
		}
	}
	return ps
}

// validClass accepts the nine dangerous-goods classes and their divisions:
// "2", "2.1", "6.1", "9".
func validClass(c string) bool {
	if len(c) == 0 || c[0] < '1' || c[0] > '9' {
		return false
	}
	if len(c) == 1 {
		return true
	}
	if c[1] != '.' || len(c) < 3 {
		return false
	}
	for _, r := range c[2:] {
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// validUN accepts "UN" followed by four digits.
func validUN(s string) bool {
	if len(s) != 6 || s[:2] != "UN" {
		return false
	}
	for _, r := range s[2:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ClassCovered reports whether a good's class is covered by a permit class:
// equal, or the permit class followed by a dot ("2.1" under "2").
func ClassCovered(good, permit string) bool {
	return good == permit || (len(good) > len(permit) && good[:len(permit)] == permit && good[len(permit)] == '.')
}

// Decode reads a snapshot from YAML or JSON, strictly, and validates it; every
// error names the file, the line and the field.
func Decode(data []byte, file string) (*Snapshot, error) {
	doc, err := strictyaml.Parse(data, file)
	if err != nil {
		return nil, err
	}
	var s Snapshot
	if err := doc.Decode(&s); err != nil {
		return nil, err
	}
	if err := ProblemsError(doc, "", s.Validate()); err != nil {
		return nil, err
	}
	return &s, nil
}

// ProblemsError turns problems under prefix into one error that names the line
// of each; nil when there are none.
func ProblemsError(doc *strictyaml.Doc, prefix string, ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, 0, len(ps))
	for _, p := range ps {
		field := p.Field
		if prefix != "" {
			field = prefix + "." + field
		}
		errs = append(errs, doc.Errorf(field, "%s", p.Msg))
	}
	return errors.Join(errs...)
}
