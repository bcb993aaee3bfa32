package checks

import (
	"time"

	"github.com/hazgate/hazgate/registry"
)

// Reason codes of the waybill lookup, the waybill's status and the
// appointment (docs/checks.md). Their messages are added to the table in
// init, beside the codes, so this file is the whole of the rule.
const (
	// waybill_consistency
	ReasonWaybillCancelled   = "waybill_cancelled"   // the waybill's status is cancelled
	ReasonWaybillCompleted   = "waybill_completed"   // the waybill's status is completed: the trip is over
	ReasonWaybillUnavailable = "waybill_unavailable" // the waybill service did not answer in time and no copy is held
	ReasonWaybillStatus      = "waybill_status"      // a status that is none of valid, cancelled, completed
	// park_rules
	ReasonNoAppointment = "no_appointment" // no approved appointment whose window holds now
)

func init() {
	messages[ReasonWaybillCancelled] = [2]string{"电子运单已作废", "the waybill has been cancelled"}
	messages[ReasonWaybillCompleted] = [2]string{"电子运单已完结（运输已结束）", "the waybill is completed: its trip is over"}
	messages[ReasonWaybillUnavailable] = [2]string{"运单服务无应答，且无运单副本，无法确认", "the waybill service did not answer and no copy is held: cannot confirm"}
	messages[ReasonWaybillStatus] = [2]string{"电子运单状态不明（{d}）", "the waybill's status is not known ({d})"}
	messages[ReasonNoAppointment] = [2]string{"{s}无当前有效的入园预约", "{s} has no appointment for now"}
}

// Where a looked-up waybill came from (WaybillLookup.Source).
const (
	WaybillFromRegistry = "registry" // the registry's copy, fresh enough not to ask
	WaybillFromService  = "service"  // the waybill service's answer, just fetched
	WaybillFromCache    = "cache"    // an earlier answer of the service, kept in the store
)

// WaybillLookup is what the lane learned of the scanned waybill from the
// waybill service (docs/design.md, "Waybill lookup"): the copy to judge, or
// that none could be had. A nil lookup in the evidence (the service is not
// configured) leaves the registry's copy to the checks.
type WaybillLookup struct {
	// Number is the waybill number looked up; a lookup of another number
	// than the evidence's waybill is ignored.
	Number string `json:"number"`
	// Source is where Waybill came from (WaybillFrom*); empty with no copy.
	Source string `json:"source,omitempty"`
	// Waybill is the copy to judge, nil when none was had.
	Waybill *registry.Waybill `json:"waybill,omitempty"`
	// FetchedAt is when the copy was fetched from the service (zero for the
	// registry's copy).
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	// Unavailable is set when the service did not answer in time (or
	// answered something unusable) and no copy is held: the waybill is
	// unknown, never passed.
	Unavailable bool `json:"unavailable,omitempty"`
	// Detail says, in plain words, why the service gave no copy.
	Detail string `json:"detail,omitempty"`
}

// Clone returns a deep copy of l (nil for nil).
func (l *WaybillLookup) Clone() *WaybillLookup {
	if l == nil {
		return nil
	}
	c := *l
	if l.Waybill != nil {
		w := l.Waybill.Clone()
		c.Waybill = &w
	}
	return &c
}

// lookedUp is the evidence's lookup when it is of the scanned waybill.
func (ev Evidence) lookedUp() *WaybillLookup {
	if l := ev.WaybillLookup; l != nil && l.Number == ev.Waybill && ev.Waybill != "" {
		return l
	}
	return nil
}

// waybillStatus judges the waybill's status: only a valid one (or none
// given) passes.
func waybillStatus(jd *judgement, w *registry.Waybill) {
	switch w.Status {
	case "", registry.WaybillValid:
	case registry.WaybillCancelled:
		jd.fail(ReasonWaybillCancelled, "waybill", w.Number)
	case registry.WaybillCompleted:
		jd.fail(ReasonWaybillCompleted, "waybill", w.Number)
	default:
		// Validation refuses it; one that slips through is not passed.
		jd.fail(ReasonWaybillStatus, "waybill", w.Status)
	}
}
