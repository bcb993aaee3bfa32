package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// inspectionSummary is one row of the history.
type inspectionSummary struct {
	ID        string         `json:"id"`
	Lane      string         `json:"lane"`
	Direction lane.Direction `json:"direction"`
	Plate     string         `json:"plate"`
	Trailer   string         `json:"trailer"`
	// PlateColor and Placard are what the plate camera saw: the plate's
	// colour ("" none said) and the danger mark (null: not said).
	PlateColor string         `json:"plate_color"`
	Placard    *bool          `json:"placard"`
	Driver     *personView    `json:"driver"`
	Escort     *personView    `json:"escort"`
	Waybill    string         `json:"waybill"`
	Verdict    checks.Verdict `json:"verdict"`
	Failed     []string       `json:"failed"`
	Unknown    []string       `json:"unknown"`
	DecidedBy  string         `json:"decided_by"`
	ArrivedAt  time.Time      `json:"arrived_at"`
	DecidedAt  time.Time      `json:"decided_at"`
	// Outcome is how the case ended (store.Outcome*), in words too;
	// Decision the operator's decision that ended it, if one did.
	Outcome     string        `json:"outcome"`
	OutcomeText text          `json:"outcome_text"`
	Decision    *decisionView `json:"decision"`

	// WaybillSource and WaybillByPlate: how the waybill was found, and
	// the plate's waybill a scan overrode (view.go waybillFound).
	WaybillSource  string `json:"waybill_source"`
	WaybillByPlate string `json:"waybill_by_plate,omitempty"`
}

// newSummary is an inspection's row with its decisions (oldest first).
func newSummary(ins *store.Inspection, decisions []store.Decision) inspectionSummary {
	ev := ins.Evidence
	s := inspectionSummary{
		ID: ins.ID, Lane: ins.Lane, Direction: ins.Direction, Plate: ev.Plate, Trailer: ev.Trailer,
		PlateColor: ev.PlateColor, Placard: ev.Placard,
		Driver: newPersonView(ev.Driver, true), Escort: newPersonView(ev.Escort, true), Waybill: ev.Waybill,
		Verdict: ins.Outcome.Verdict, Failed: []string{}, Unknown: []string{}, DecidedBy: ins.DecidedBy,
		ArrivedAt: ins.ArrivedAt, DecidedAt: ins.DecidedAt,
		Outcome: store.Outcome(string(ins.Outcome.Verdict), decisions),
	}
	s.WaybillSource, s.WaybillByPlate = waybillFound(ev)
	s.OutcomeText = outcomeText(s.Outcome)
	if len(decisions) > 0 {
		d := decisions[0]
		v := newDecisionView(d.Operator, d.Action, d.Reason)
		v.At = d.At.Format(time.RFC3339Nano)
		s.Decision = &v
	}
	for _, c := range ins.Outcome.Checks {
		switch c.Result {
		case checks.Fail:
			s.Failed = append(s.Failed, c.ID)
		case checks.Unknown:
			s.Unknown = append(s.Unknown, c.ID)
		}
	}
	return s
}

// inspectionDetail is an inspection's page.
type inspectionDetail struct {
	inspectionSummary
	DeadlineExceeded bool               `json:"deadline_exceeded"`
	VerdictReasons   []checks.Reason    `json:"verdict_reasons"`
	Checks           []checkView        `json:"checks"`
	Timings          map[string]float64 `json:"timings_s"` // step -> seconds after arrival
	Decisions        []decisionView     `json:"decisions"`
	Audit            []auditView        `json:"audit"`
}

type auditView struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Subject string          `json:"subject"`
	Detail  json.RawMessage `json:"detail"`
	Hash    string          `json:"hash"`
}

// parseDay reads a YYYY-MM-DD date as the day [from, to) in loc.
func parseDay(s string, loc *time.Location) (from, to time.Time, err error) {
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("kiosk: date %q is not YYYY-MM-DD", s)
	}
	return d, d.AddDate(0, 0, 1), nil
}

// filter reads the history's search parameters: plate, id_number, waybill,
// verdict, outcome, date (YYYY-MM-DD in the park's time zone) or from/to, limit.
func (s *Server) filter(r *http.Request) (store.Filter, *apiError) {
	q := r.URL.Query()
	var f store.Filter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"plate", &f.Plate}, {"id_number", &f.IDNumber}, {"waybill", &f.Waybill}} {
		v, ok := cleanText(q.Get(p.name), maxSearchLen)
		if q.Get(p.name) != "" && !ok {
			return f, newError(http.StatusBadRequest, errBadRequest, p.name+" is too long or has control characters")
		}
		*p.dst = v
	}
	switch o := q.Get("outcome"); o {
	case "", store.OutcomePassed, store.OutcomePending, store.OutcomeReleased, store.OutcomeRefused:
		f.Outcome = o
	default:
		return f, newError(http.StatusBadRequest, errBadRequest, "outcome is passed, pending, released or refused")
	}
	switch v := checks.Verdict(q.Get("verdict")); v {
	case "", checks.VerdictPass, checks.VerdictReject, checks.VerdictReview:
		f.Verdict = v
	default:
		return f, newError(http.StatusBadRequest, errBadRequest, "verdict is pass, reject or review")
	}
	if d := q.Get("date"); d != "" {
		from, to, err := parseDay(d, s.cfg.Location)
		if err != nil {
			return f, newError(http.StatusBadRequest, errBadRequest, "date is YYYY-MM-DD")
		}
		f.From, f.To = from, to
	}
	f.Limit = 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return f, newError(http.StatusBadRequest, errBadRequest, "limit is 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

// handleSearch lists the inspections the query selects, newest first.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, _ *session) {
	f, e := s.filter(r)
	if e != nil {
		writeError(w, e)
		return
	}
	list, err := s.deps.Store.ListInspections(r.Context(), f)
	if err != nil {
		s.log.Error("history search failed", "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the history could not be read"))
		return
	}
	out := make([]inspectionSummary, 0, len(list))
	for i := range list {
		ds, err := s.deps.Store.Decisions(r.Context(), list[i].ID)
		if err != nil {
			s.log.Error("history search failed", "err", err)
			writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the history could not be read"))
			return
		}
		out = append(out, newSummary(&list[i], ds))
	}
	writeJSON(w, http.StatusOK, map[string]any{"inspections": out, "limit": f.Limit})
}

// handleInspection is an inspection's page: every check with its reasons,
// the evidence, the operator decisions and the audit trail.
func (s *Server) handleInspection(w http.ResponseWriter, r *http.Request, _ *session) {
	id := r.PathValue("id")
	ctx := r.Context()
	ins, ok := s.inspection(w, r, id)
	if !ok {
		return
	}
	decisions, err := s.deps.Store.Decisions(ctx, id)
	if err != nil {
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the decisions could not be read"))
		return
	}
	trail, err := s.deps.Store.AuditFor(ctx, id)
	if err != nil {
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the audit trail could not be read"))
		return
	}
	d := inspectionDetail{
		inspectionSummary: newSummary(ins, decisions),
		DeadlineExceeded:  ins.Evidence.DeadlineExceeded,
		VerdictReasons:    ins.Outcome.Reasons,
		Checks:            outcomeChecks(ins.Outcome),
		Timings:           map[string]float64{},
		Decisions:         []decisionView{},
		Audit:             []auditView{},
	}
	if d.VerdictReasons == nil {
		d.VerdictReasons = []checks.Reason{}
	}
	for step, t := range ins.Timings {
		d.Timings[step] = t.Seconds()
	}
	for _, x := range decisions {
		v := newDecisionView(x.Operator, x.Action, x.Reason)
		v.At = x.At.Format(time.RFC3339Nano)
		d.Decisions = append(d.Decisions, v)
	}
	for _, a := range trail {
		detail := a.Detail
		if !json.Valid(detail) {
			detail = json.RawMessage("null")
		}
		d.Audit = append(d.Audit, auditView{Seq: a.Seq, At: a.At, Actor: a.Actor, Action: a.Action, Subject: a.Subject, Detail: detail, Hash: a.Hash})
	}
	writeJSON(w, http.StatusOK, d)
}

// inspection reads the inspection id for a handler; when it cannot, it has
// answered (404 for an id the store does not know, 503 when the store does
// not answer) and ok is false.
func (s *Server) inspection(w http.ResponseWriter, r *http.Request, id string) (ins *store.Inspection, ok bool) {
	ins, err := s.deps.Store.GetInspection(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no inspection "+id))
		return nil, false
	}
	if err != nil {
		s.log.Error("inspection not read", "inspection", id, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the inspection could not be read"))
		return nil, false
	}
	return ins, true
}
