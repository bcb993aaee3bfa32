// Package checks judges a vehicle at the gate: the five mandatory checks
// (五必查) and the gate's own identity and park-rules checks. It is pure:
// evidence, a read-only registry view and the time come in, results go out.
//
// It imports only registry, idnumber and strictyaml (IsFinite) of ours; config, lane, the device
// drivers and every package above them may import it.
package checks

import (
	"time"

	"github.com/hazgate/hazgate/registry"
)

// Check IDs, fixed by the design; used in code, records, payloads and
// scenarios.
const (
	VehicleDocuments       = "vehicle_documents"
	PersonnelQualification = "personnel_qualification"
	InspectionValidity     = "inspection_validity"
	WaybillConsistency     = "waybill_consistency"
	TankMedia              = "tank_media"
	Identity               = "identity"
	ParkRules              = "park_rules"
)

// IDs lists every check in the order they are run and shown.
var IDs = []string{VehicleDocuments, PersonnelQualification, InspectionValidity, WaybillConsistency, TankMedia, Identity, ParkRules}

// Result is one check's outcome.
type Result string

// The results a check can have. Unknown is never turned into Pass.
const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Unknown Result = "unknown"
)

// Verdict is the gate's decision on an inspection.
type Verdict string

// The verdicts: pass when every check passes, reject when any fails, review
// otherwise (the operator decides).
const (
	VerdictPass   Verdict = "pass"
	VerdictReject Verdict = "reject"
	VerdictReview Verdict = "review"
)

// Reason is why a check did not pass (or why a verdict is what it is): a stable
// snake_case code, what it is about ("tractor", "trailer", "tank", "driver",
// "escort", "waybill", a UN number...), and a message in Chinese and English.
type Reason struct {
	Code    string `json:"code"`
	Subject string `json:"subject,omitempty"`
	ZH      string `json:"zh"`
	EN      string `json:"en"`
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	ID      string   `json:"id"`
	Result  Result   `json:"result"`
	Reasons []Reason `json:"reasons"`
}

// Codes returns the reason codes, in order.
func (r CheckResult) Codes() []string {
	out := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		out[i] = x.Code
	}
	return out
}

// Outcome is every check's result and the verdict that follows.
type Outcome struct {
	Verdict Verdict       `json:"verdict"`
	Reasons []Reason      `json:"reasons,omitempty"` // verdict-level reasons, e.g. deadline_exceeded
	Checks  []CheckResult `json:"checks"`
	// ClockSynced is whether the gate's clock was known to be right when
	// the checks ran (nil: a record from before the gate said).
	ClockSynced *bool `json:"clock_synced,omitempty"`
}

// Check returns the result of the check with this id.
func (o Outcome) Check(id string) (CheckResult, bool) {
	for _, c := range o.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return CheckResult{}, false
}

// Failed lists the IDs of the checks that failed.
func (o Outcome) Failed() []string {
	var out []string
	for _, c := range o.Checks {
		if c.Result == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

// PersonEvidence is what the gate learned of one person: their ID card as the
// reader read it and the face-match score.
type PersonEvidence struct {
	IDNumber       string            `json:"id_number"`
	Name           string            `json:"name"`
	CardValidFrom  registry.Validity `json:"card_valid_from"`
	CardValidUntil registry.Validity `json:"card_valid_until"`
	// Face is the live face's similarity to the card photo, 0..1; nil when
	// there is no score (service down, timed out, no face found).
	Face *float64 `json:"face"`
}

// How the waybill was found (Evidence.WaybillSource).
const (
	WaybillScanned = "scanned"
	WaybillByPlate = "by_plate"
)

// Evidence is everything collected at the lane for one vehicle. A zero field
// (empty string, nil pointer) means that evidence never arrived.
type Evidence struct {
	Lane    string          `json:"lane"`
	Arrived time.Time       `json:"arrived"`
	Plate   string          `json:"plate"`
	Trailer string          `json:"trailer"`
	Driver  *PersonEvidence `json:"driver"`
	Escort  *PersonEvidence `json:"escort"`
	Waybill string          `json:"waybill"`
	// PlateColor is the colour the plate camera read (registry.PlateColors),
	// empty when it read none; Placard whether it saw the danger mark
	// (危险品标志), nil when it does not say. Pictures are the camera's
	// plate and scene pictures, kept with the inspection and never in its
	// record or payload.
	PlateColor string         `json:"plate_color,omitempty"`
	Placard    *bool          `json:"placard,omitempty"`
	Pictures   *PlatePictures `json:"-"`
	// Exempt is the kind of emergency vehicle the registry marked the
	// plate as when it was read (checks/exempt.go); "" for every other.
	Exempt string `json:"exempt,omitempty"`
	// WaybillSource says how Waybill was found: WaybillScanned (the
	// scanner) or WaybillByPlate (the one waybill valid now that names the
	// plate read, issue 16); "" when there is none. WaybillByPlate is the
	// waybill found from the plate, kept when a scan named another (the
	// scan wins).
	WaybillSource  string `json:"waybill_source,omitempty"`
	WaybillByPlate string `json:"waybill_by_plate,omitempty"`
	// WaybillLookup is the waybill service's answer on Waybill (nil: the
	// service is not used, the registry's copy is judged).
	WaybillLookup *WaybillLookup `json:"waybill_lookup,omitempty"`
	// DeadlineExceeded is set when the lane decided because its deadline
	// passed rather than because the evidence was complete.
	DeadlineExceeded bool `json:"deadline_exceeded,omitempty"`
	// Weighbridge is set when the lane weighs vehicles; GrossKg is then
	// the stable gross weight taken while the vehicle stood on the arrival
	// loop (nil: none by the decision).
	Weighbridge bool     `json:"weighbridge,omitempty"`
	GrossKg     *float64 `json:"gross_kg,omitempty"`
	// Steps records when each piece of evidence arrived ("plate",
	// "driver_card", "driver_face", "escort_card", "escort_face", "waybill",
	// "weight").
	Steps map[string]time.Time `json:"steps,omitempty"`
}

// Registry is the read-only registry view the checks look things up in.
// *registry.Index implements it.
type Registry interface {
	Vehicle(plate string) (registry.Vehicle, bool)
	TankOn(plate string) (registry.Tank, bool)
	Person(idNumber string) (registry.Person, bool)
	Waybill(number string) (registry.Waybill, bool)
	Blacklisted(kind, value string) (registry.BlacklistEntry, bool)
	Meta() registry.Meta
}

var _ Registry = (*registry.Index)(nil)

// Params are the judging settings from the configuration.
type Params struct {
	Location       *time.Location // the park's time zone, for date-only validity
	FaceThreshold  float64        // a face score below this fails
	RegistryMaxAge time.Duration  // a registry synced longer ago is stale
	// OpenHours, when set, are the park's opening hours as minutes after
	// local midnight [From, Until); arrivals outside fail park_rules.
	OpenHours *Hours
	// RequirePlacard: a tanker the plate camera did not see a danger mark
	// (placard) on is unknown in vehicle_documents (placard_not_seen).
	RequirePlacard bool
	// WeightTolerance is how far, as a fraction of the waybill's total,
	// the cargo a weighbridge weighed may be from it (0.05: 5 %).
	WeightTolerance float64
	// Appointments is AppointmentsOff (or empty), AppointmentsOptional or
	// AppointmentsRequired (checks/appointments.go).
	Appointments string
}

// Hours is a daily window in local time, in minutes after midnight. Until may
// be less than From for a window that spans midnight.
type Hours struct {
	From, Until int
}

// DefaultParams are the design's defaults: Asia/Shanghai, 0.80, 24 h, 5 %.
func DefaultParams() Params {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return Params{Location: loc, FaceThreshold: 0.80, RegistryMaxAge: 24 * time.Hour, WeightTolerance: DefaultWeightTolerance}
}
