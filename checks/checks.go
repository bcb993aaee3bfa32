package checks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/strictyaml"
)

// judgement collects a check's reasons; failing and unknown reasons are kept
// apart so that the result follows: any fail is a fail, else any unknown is
// unknown, else pass.
type judgement struct {
	id      string
	fails   []Reason
	unknown []Reason
}

func (j *judgement) fail(code, subject, detail string) {
	j.fails = append(j.fails, NewReason(code, subject, detail))
}

func (j *judgement) unsure(code, subject, detail string) {
	j.unknown = append(j.unknown, NewReason(code, subject, detail))
}

func (j *judgement) result(stale bool) CheckResult {
	r := CheckResult{ID: j.id, Reasons: append(append([]Reason{}, j.fails...), j.unknown...)}
	switch {
	case len(j.fails) > 0:
		r.Result = Fail
	case len(j.unknown) > 0:
		r.Result = Unknown
	case stale:
		r.Result = Unknown
		r.Reasons = []Reason{NewReason(ReasonRegistryStale, "", "")}
	default:
		r.Result = Pass
	}
	if r.Reasons == nil {
		r.Reasons = []Reason{}
	}
	return r
}

// judge carries what every rule needs.
type judge struct {
	ev    Evidence
	reg   Registry
	now   time.Time
	p     Params
	goods []registry.Good // nil when the waybill is not known
	wb    *registry.Waybill
	// unsynced: the clock is not known to be right, so no date can be
	// judged (clock.go).
	unsynced bool
	// preclear: judged before arrival (preclear.go): a person the
	// evidence does not name is not expected yet.
	preclear bool
}

// run judges ev against reg at now, on a clock known to be right or not
// (RunAt).
func run(ev Evidence, reg Registry, now time.Time, synced bool, p Params) Outcome {
	if p.Location == nil {
		p.Location = time.UTC
	}
	reg = newMemo(reg)
	j := &judge{ev: ev, reg: reg, now: now, p: p, unsynced: !synced}
	if out, ok := j.exempt(); ok {
		out.ClockSynced = &synced // no date is judged: let in on any clock
		return out
	}
	j.takeWaybill()
	stale := Stale(reg.Meta(), now, p.RegistryMaxAge)
	out := Outcome{ClockSynced: &synced, Checks: []CheckResult{
		j.vehicleDocuments().result(stale),
		j.personnelQualification().result(stale),
		j.inspectionValidity().result(stale),
		j.weigh(j.waybillConsistency()).result(stale),
		j.tankMedia().result(stale),
		j.identity().result(false), // judged from the card and the face, not the registry
		j.parkRules().result(stale),
	}}
	out.Verdict = verdict(out.Checks, ev.DeadlineExceeded)
	if ev.DeadlineExceeded {
		out.Reasons = []Reason{NewReason(ReasonDeadlineExceeded, "", "")}
	}
	return out
}

// runWithoutRegistry judges ev when the registry could not be read
// (RunWithoutRegistry, RunWithoutRegistryAt).
func runWithoutRegistry(ev Evidence, now time.Time, synced bool, p Params) Outcome {
	if p.Location == nil {
		p.Location = time.UTC
	}
	j := &judge{ev: ev, now: now, p: p, unsynced: !synced}
	out := Outcome{ClockSynced: &synced}
	for _, id := range IDs {
		if id == Identity {
			out.Checks = append(out.Checks, j.identity().result(false))
			continue
		}
		jd := &judgement{id: id}
		jd.unsure(ReasonRegistryError, "", "")
		out.Checks = append(out.Checks, jd.result(false))
	}
	out.Verdict = verdict(out.Checks, ev.DeadlineExceeded)
	if ev.DeadlineExceeded {
		out.Reasons = []Reason{NewReason(ReasonDeadlineExceeded, "", "")}
	}
	return out
}

// Stale reports whether a registry synced at m.SyncedAt is too old at now. A
// registry that was never synced is stale.
func Stale(m registry.Meta, now time.Time, maxAge time.Duration) bool {
	return m.SyncedAt.IsZero() || (maxAge > 0 && now.Sub(m.SyncedAt) > maxAge)
}

// verdict is pass when every check passes, reject when any fails, review
// otherwise. A lane that hit its deadline never passes.
func verdict(rs []CheckResult, deadline bool) Verdict {
	v := VerdictPass
	for _, r := range rs {
		switch r.Result {
		case Fail:
			return VerdictReject
		case Unknown:
			v = VerdictReview
		}
	}
	if deadline {
		v = VerdictReview
	}
	return v
}

// vehicle is one vehicle the camera read: its role and plate.
type vehicle struct{ role, plate string }

// vehicles returns the tractor (always, even with no plate read) and the
// trailer when there is one.
func (j *judge) vehicles() []vehicle {
	vs := []vehicle{{"tractor", j.ev.Plate}}
	if j.ev.Trailer != "" {
		vs = append(vs, vehicle{"trailer", j.ev.Trailer})
	}
	return vs
}

// tankCarrier is the vehicle the tank sits on: the trailer, or the tractor of
// a rigid tanker with no trailer.
func (j *judge) tankCarrier() vehicle {
	if j.ev.Trailer != "" {
		return vehicle{"trailer", j.ev.Trailer}
	}
	return vehicle{"tractor", j.ev.Plate}
}

func (j *judge) validUntil(v registry.Validity) bool { return v.ValidUntil(j.now, j.p.Location) }
func (j *judge) validFrom(v registry.Validity) bool  { return v.ValidFrom(j.now, j.p.Location) }

func (j *judge) vehicleDocuments() *judgement {
	jd := &judgement{id: VehicleDocuments}
	for _, v := range j.vehicles() {
		if v.plate == "" {
			jd.unsure(ReasonPlateMissing, v.role, "")
			continue
		}
		rec, ok := j.reg.Vehicle(v.plate)
		if !ok {
			jd.fail(ReasonNotRegistered, v.role, v.plate)
			continue
		}
		j.plateColor(jd, v.role, rec)
		switch {
		case rec.LicenceValidUntil.IsZero():
			jd.unsure(ReasonDataMissing, v.role, "licence_valid_until")
		case j.clockUnknown(jd):
		case !j.validUntil(rec.LicenceValidUntil):
			jd.fail(ReasonLicenceExpired, v.role, rec.LicenceValidUntil.String())
		}
		switch {
		case rec.PermitValidUntil.IsZero():
			jd.unsure(ReasonDataMissing, v.role, "permit_valid_until")
		case j.clockUnknown(jd):
		case !j.validUntil(rec.PermitValidUntil):
			jd.fail(ReasonPermitExpired, v.role, rec.PermitValidUntil.String())
		}
		if j.goods == nil {
			jd.unsure(ReasonCargoUnknown, v.role, "")
			continue
		}
		for _, c := range uncoveredClasses(j.goods, rec.PermitClasses) {
			jd.fail(ReasonClassNotPermitted, v.role, c)
		}
	}
	j.placard(jd)
	return jd
}

// uncoveredClasses lists, once each, the goods' classes that no permit class
// covers.
func uncoveredClasses(goods []registry.Good, permit []string) []string {
	var out []string
	for _, g := range goods {
		covered := slices.ContainsFunc(permit, func(p string) bool { return registry.ClassCovered(g.Class, p) })
		if !covered && !slices.Contains(out, g.Class) {
			out = append(out, g.Class)
		}
	}
	return out
}

func (j *judge) personnelQualification() *judgement {
	jd := &judgement{id: PersonnelQualification}
	for _, p := range j.people() {
		if p.ev == nil {
			jd.unsure(p.missing, "", "")
			continue
		}
		rec, ok := j.reg.Person(p.ev.IDNumber)
		if !ok {
			jd.fail(ReasonNotRegistered, string(p.role), p.ev.IDNumber)
			continue
		}
		if hasCertificate(rec, p.role) && j.clockUnknown(jd) {
			continue
		}
		if code := j.certificate(rec, p.role); code != "" {
			jd.fail(code, string(p.role), "")
		}
	}
	if d, e := j.ev.Driver, j.ev.Escort; d != nil && e != nil && sameID(d.IDNumber, e.IDNumber) {
		jd.fail(ReasonEscortIsDriver, "escort", "")
	}
	return jd
}

// certificate returns "" when rec holds a certificate for role valid now, or
// the reason code why not.
func (j *judge) certificate(rec registry.Person, role registry.Role) string {
	code := ReasonCertificateMissing
	for _, c := range rec.Certificates {
		if c.Role != role {
			continue
		}
		switch {
		case !j.validFrom(c.ValidFrom):
			code = ReasonCertificateNotValid
		case c.ValidUntil.IsZero() || !j.validUntil(c.ValidUntil):
			if code != ReasonCertificateNotValid {
				code = ReasonCertificateExpired
			}
		default:
			return ""
		}
	}
	return code
}

type person struct {
	role    registry.Role
	ev      *PersonEvidence
	missing string
}

func (j *judge) people() []person {
	return []person{
		{registry.RoleDriver, j.ev.Driver, ReasonDriverMissing},
		{registry.RoleEscort, j.ev.Escort, ReasonEscortMissing},
	}
}

func sameID(a, b string) bool { return strings.EqualFold(a, b) }

func (j *judge) inspectionValidity() *judgement {
	jd := &judgement{id: InspectionValidity}
	for _, v := range j.vehicles() {
		if v.plate == "" {
			jd.unsure(ReasonPlateMissing, v.role, "")
			continue
		}
		rec, ok := j.reg.Vehicle(v.plate)
		switch {
		case !ok:
			jd.fail(ReasonNotRegistered, v.role, v.plate)
		case rec.InspectionValidUntil.IsZero():
			jd.unsure(ReasonDataMissing, v.role, "inspection_valid_until")
		case j.clockUnknown(jd):
		case !j.validUntil(rec.InspectionValidUntil):
			jd.fail(ReasonInspectionExpired, v.role, rec.InspectionValidUntil.String())
		}
	}
	carrier := j.tankCarrier()
	if carrier.plate == "" {
		return jd // plate_missing already said
	}
	tank, ok := j.reg.TankOn(carrier.plate)
	switch {
	case !ok:
		jd.fail(ReasonNotRegistered, "tank", carrier.plate)
	case tank.InspectionValidUntil.IsZero():
		jd.unsure(ReasonDataMissing, "tank", "inspection_valid_until")
	case j.clockUnknown(jd):
	case !j.validUntil(tank.InspectionValidUntil):
		jd.fail(ReasonInspectionExpired, "tank", tank.InspectionValidUntil.String())
	}
	return jd
}

func (j *judge) waybillConsistency() *judgement {
	jd := &judgement{id: WaybillConsistency}
	if j.ev.Waybill == "" {
		jd.unsure(ReasonWaybillMissing, "", "")
		return jd
	}
	w := j.wb
	if w == nil {
		if l := j.ev.lookedUp(); l != nil && l.Unavailable {
			jd.unsure(ReasonWaybillUnavailable, "waybill", j.ev.Waybill)
			return jd
		}
		jd.fail(ReasonNotRegistered, "waybill", j.ev.Waybill)
		return jd
	}
	waybillStatus(jd, w)
	if !j.clockUnknown(jd) {
		if !j.validFrom(w.ValidFrom) {
			jd.fail(ReasonWaybillNotYetValid, "waybill", w.ValidFrom.String())
		}
		if !j.validUntil(w.ValidUntil) {
			jd.fail(ReasonWaybillExpired, "waybill", w.ValidUntil.String())
		}
	}
	if j.ev.Plate == "" {
		jd.unsure(ReasonPlateMissing, "tractor", "")
	} else if registry.NormalizePlate(w.Vehicle) != registry.NormalizePlate(j.ev.Plate) {
		jd.fail(ReasonVehicleMismatch, "waybill", w.Vehicle)
	}
	// With no plate read at all, the trailer was not read either: unknown
	// (plate_missing above), not a mismatch.
	if j.ev.Plate != "" && registry.NormalizePlate(w.Trailer) != registry.NormalizePlate(j.ev.Trailer) {
		jd.fail(ReasonTrailerMismatch, "waybill", w.Trailer)
	}
	for _, p := range j.people() {
		named := w.Driver
		code := ReasonDriverMismatch
		if p.role == registry.RoleEscort {
			named, code = w.Escort, ReasonEscortMismatch
		}
		switch {
		case p.ev == nil && j.preclear:
		case p.ev == nil:
			jd.unsure(p.missing, "", "")
		case !sameID(named, p.ev.IDNumber):
			jd.fail(code, "waybill", "")
		}
	}
	j.load(jd, w)
	return jd
}

// load judges the waybill's total quantity against the rated load of the
// vehicle carrying the tank. A quantity or rated load that is not a finite
// number is unknown, and the comparison is written so that one that slips
// through can only fail: every comparison with NaN is false.
func (j *judge) load(jd *judgement, w *registry.Waybill) {
	carrier := j.tankCarrier()
	if carrier.plate == "" {
		return
	}
	rec, ok := j.reg.Vehicle(carrier.plate)
	switch {
	case !ok:
		// vehicle_documents fails not_registered; here the load is unknown.
		jd.unsure(ReasonDataMissing, carrier.role, "rated_load_kg")
		return
	case !(rec.RatedLoadKg > 0) || !strictyaml.IsFinite(rec.RatedLoadKg):
		jd.unsure(ReasonDataMissing, carrier.role, "rated_load_kg")
		return
	}
	var total float64
	for _, g := range w.Goods {
		if !(g.QuantityKg >= 0) || !strictyaml.IsFinite(g.QuantityKg) {
			jd.unsure(ReasonDataMissing, "waybill", "quantity_kg")
			return
		}
		total += g.QuantityKg
	}
	if !(total <= rec.RatedLoadKg) {
		jd.fail(ReasonOverloaded, "waybill", fmt.Sprintf("%g kg > %g kg", total, rec.RatedLoadKg))
	}
}

func (j *judge) tankMedia() *judgement {
	jd := &judgement{id: TankMedia}
	carrier := j.tankCarrier()
	if carrier.plate == "" {
		jd.unsure(ReasonPlateMissing, carrier.role, "")
		return jd
	}
	tank, ok := j.reg.TankOn(carrier.plate)
	if !ok {
		jd.fail(ReasonNotRegistered, "tank", carrier.plate)
		return jd
	}
	switch {
	case j.ev.Waybill == "":
		jd.unsure(ReasonWaybillMissing, "", "")
		return jd
	case j.goods == nil:
		jd.unsure(ReasonCargoUnknown, "", "")
		return jd
	}
	for _, g := range j.goods {
		if !slices.ContainsFunc(tank.Media, func(m string) bool { return strings.EqualFold(strings.ReplaceAll(m, " ", ""), g.UN) }) {
			jd.fail(ReasonMediumNotSuitable, "tank", g.UN)
		}
	}
	return jd
}

func (j *judge) identity() *judgement {
	jd := &judgement{id: Identity}
	for _, p := range j.people() {
		if p.ev == nil {
			jd.unsure(p.missing, "", "")
			continue
		}
		if idnumber.Check(p.ev.IDNumber) != nil {
			jd.fail(ReasonIDChecksum, string(p.role), p.ev.IDNumber)
		}
		if !j.clockUnknown(jd) {
			if !j.validUntil(p.ev.CardValidUntil) {
				jd.fail(ReasonCardExpired, string(p.role), p.ev.CardValidUntil.String())
			}
			if !j.validFrom(p.ev.CardValidFrom) {
				jd.fail(ReasonCardNotYetValid, string(p.role), p.ev.CardValidFrom.String())
			}
		}
		switch {
		case p.ev.Face == nil:
			jd.unsure(ReasonFaceUnavailable, string(p.role), "")
		case !faceMatches(*p.ev.Face, j.p.FaceThreshold):
			jd.fail(ReasonFaceMismatch, string(p.role), fmt.Sprintf("%.2f < %.2f", *p.ev.Face, j.p.FaceThreshold))
		}
	}
	return jd
}

// faceMatches reports whether score reaches threshold. It fails closed: a
// score or a threshold that is not a finite number never matches (written
// as a positive test, since every comparison with NaN is false).
func faceMatches(score, threshold float64) bool {
	return strictyaml.IsFinite(score) && strictyaml.IsFinite(threshold) && score >= threshold
}

func (j *judge) parkRules() *judgement {
	jd := &judgement{id: ParkRules}
	listed := func(kind, value, subject string) {
		if value == "" {
			return
		}
		if b, ok := j.reg.Blacklisted(kind, value); ok {
			jd.fail(ReasonBlacklisted, subject, strings.TrimSpace(value+" "+b.Reason))
		}
	}
	var carriers []string
	for _, v := range j.vehicles() {
		if v.plate == "" {
			jd.unsure(ReasonPlateMissing, v.role, "")
			continue
		}
		listed(registry.BlacklistVehicle, v.plate, v.role)
		if rec, ok := j.reg.Vehicle(v.plate); ok && rec.Carrier != "" {
			carriers = append(carriers, rec.Carrier)
		}
	}
	for _, p := range j.people() {
		if p.ev == nil {
			jd.unsure(p.missing, "", "")
			continue
		}
		listed(registry.BlacklistPerson, p.ev.IDNumber, string(p.role))
	}
	if j.wb != nil && j.wb.Carrier != "" {
		carriers = append(carriers, j.wb.Carrier)
	}
	slices.Sort(carriers)
	for _, c := range slices.Compact(carriers) {
		listed(registry.BlacklistCarrier, c, "carrier")
	}
	if !j.appointmentUnknown(jd) {
		j.appointment(jd)
	}
	if h := j.p.OpenHours; h != nil && !j.clockUnknown(jd) {
		at := j.ev.Arrived
		if at.IsZero() {
			at = j.now
		}
		if !h.Contains(at.In(j.p.Location)) {
			jd.fail(ReasonOutsideHours, "", "")
		}
	}
	return jd
}

// Contains reports whether t's local time of day is inside the window.
func (h Hours) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if h.From <= h.Until {
		return m >= h.From && m < h.Until
	}
	return m >= h.From || m < h.Until
}

// takeWaybill finds the waybill the evidence names: the registry's, or the
// waybill service's copy when the lane looked it up, which is judged
// instead (checks/waybill.go).
func (j *judge) takeWaybill() {
	ev := j.ev
	if ev.Waybill == "" {
		return
	}
	if w, ok := j.reg.Waybill(ev.Waybill); ok {
		j.wb = &w
		j.goods = w.Goods
	}
	if l := ev.lookedUp(); l != nil && l.Waybill != nil {
		w := l.Waybill.Clone()
		j.wb = &w
		j.goods = w.Goods
	}
}
