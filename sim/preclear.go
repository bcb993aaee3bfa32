package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// PreclearExpect is what a scenario expects of an appointment's
// pre-clearance (scenario key preclearances, docs/design.md
// "Pre-clearance"): its latest result, published (an event in the outbox)
// before its vehicle's first arrival, which is then judged again at the
// lane (its own expect says how).
type PreclearExpect struct {
	Appointment string         `yaml:"appointment" json:"appointment"`
	Verdict     checks.Verdict `yaml:"verdict" json:"verdict"`
	// Failed, when given, is the exact set of checks that failed.
	Failed *[]string `yaml:"failed" json:"failed,omitempty"`
	// Reasons are reason codes the pre-clearance must give (among others).
	Reasons []string `yaml:"reasons" json:"reasons,omitempty"`
}

// PreclearReport is one expected pre-clearance as the run found it.
type PreclearReport struct {
	Appointment string         `json:"appointment"`
	Plate       string         `json:"plate"`
	Verdict     checks.Verdict `json:"verdict"`
	Failed      []string       `json:"failed"`
	Reasons     []string       `json:"reasons"`
	// PublishedAt is the event's offset from the scenario start;
	// ArrivedAt the vehicle's first arrival's (absent with none).
	PublishedAt *float64        `json:"published_at_s,omitempty"`
	ArrivedAt   *float64        `json:"arrived_at_s,omitempty"`
	Expect      *PreclearExpect `json:"expect"`
	OK          bool            `json:"ok"`
	// Why says what differs.
	Why string `json:"why,omitempty"`
}

// validatePreclear checks the preclearances expectations.
func (s *Scenario) validatePreclear(bad func(field, format string, args ...any)) {
	for i, x := range s.Preclearances {
		f := fmt.Sprintf("preclearances[%d]", i)
		if !slices.ContainsFunc(s.Registry.Appointments, func(a registry.Appointment) bool { return a.ID == x.Appointment }) {
			bad(f+".appointment", "%q is not an appointment of the registry", x.Appointment)
		}
		switch x.Verdict {
		case checks.VerdictPass, checks.VerdictReject, checks.VerdictReview:
		default:
			bad(f+".verdict", "%q is not pass, reject or review", x.Verdict)
		}
		if x.Failed != nil {
			for j, id := range *x.Failed {
				if !slices.Contains(checks.PreclearIDs(true), id) {
					bad(fmt.Sprintf("%s.failed[%d]", f, j), "%q is not a check a pre-clearance judges (%s)", id, strings.Join(checks.PreclearIDs(true), ", "))
				}
			}
		}
	}
}

// awaitPreclear waits for the gate's first pre-clearance pass, which runs
// as the gate starts: what it publishes comes before the first arrival,
// as on a gate that was running before the scenario's vehicles came.
func (e *Engine) awaitPreclear(ctx context.Context) error {
	p := e.gate.Preclear
	if p == nil {
		return nil
	}
	select {
	case <-p.FirstPass():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settleBound):
		return fmt.Errorf("sim: %s: the first pre-clearance pass did not end within %v", e.sc.Name, settleBound)
	}
}

// preclearReport checks the scenario's preclearances against the store:
// the appointment's latest pre-clearance, its event in the outbox, and
// that the event came before its vehicle's first arrival and before that
// arrival's inspection.
func (e *Engine) preclearReport(ctx context.Context, rep *Report) {
	if len(e.sc.Preclearances) == 0 {
		return
	}
	st := e.gate.Store
	latest, err := st.LatestPreclearances(ctx)
	var rows []store.OutboxRow
	if err == nil {
		// Sent (a run with a broker) or not yet.
		rows, err = st.SentEvents(ctx, 1, 1<<62, 100000)
	}
	if err == nil {
		var pending []store.OutboxRow
		pending, err = st.PendingOutbox(ctx, 0, 100000)
		rows = append(rows, pending...)
	}
	for _, x := range e.sc.Preclearances {
		r := PreclearReport{Appointment: x.Appointment, Expect: &x, Failed: []string{}, Reasons: []string{}}
		var why []string
		pc, ok := latest[x.Appointment]
		switch {
		case err != nil:
			why = append(why, "the store could not be read: "+err.Error())
		case !ok:
			why = append(why, "no pre-clearance was recorded")
		default:
			r.Plate, r.Verdict = pc.Appointment.Plate, pc.Verdict
			for _, c := range pc.Checks {
				if c.Result == checks.Fail {
					r.Failed = append(r.Failed, c.ID)
				}
				r.Reasons = append(r.Reasons, c.Codes()...)
			}
			if pc.Verdict != x.Verdict {
				why = append(why, fmt.Sprintf("verdict %s, expected %s", pc.Verdict, x.Verdict))
			}
			if x.Failed != nil && !sameSet(*x.Failed, r.Failed) {
				why = append(why, fmt.Sprintf("failed %v, expected %v", r.Failed, *x.Failed))
			}
			for _, code := range x.Reasons {
				if !slices.Contains(r.Reasons, code) {
					why = append(why, "no reason "+code)
				}
			}
			why = append(why, e.preclearPublished(&r, pc, rows)...)
		}
		r.OK = len(why) == 0
		r.Why = strings.Join(why, "; ")
		if !r.OK {
			rep.Failed++
			e.printf("pre-clearance %s (%s): %s, failed %v  DIFFERS: %s\n", x.Appointment, r.Plate, r.Verdict, r.Failed, r.Why)
		} else {
			e.printf("pre-clearance %s (%s): %s, failed %v, published before the arrival\n", x.Appointment, r.Plate, r.Verdict, r.Failed)
		}
		rep.Preclearances = append(rep.Preclearances, r)
	}
}

// preclearPublished says what is wrong with pc's event: it must be in the
// outbox as an event, stamped before the first arrival of its plate, and
// ordered before that arrival's inspection.
func (e *Engine) preclearPublished(r *PreclearReport, pc store.Preclearance, rows []store.OutboxRow) []string {
	i := slices.IndexFunc(rows, func(o store.OutboxRow) bool { return o.ID == pc.ID })
	if i < 0 || rows[i].Kind != store.KindPreclearance || rows[i].Topic != "events/preclearance" || rows[i].EventSeq == 0 {
		return []string{"its event is not in the outbox"}
	}
	ev := rows[i]
	pub := ev.CreatedAt.Sub(e.start).Seconds()
	r.PublishedAt = &pub
	var v *vehicle
	for _, x := range e.vehicles {
		if registry.NormalizePlate(x.a.Plate) == registry.NormalizePlate(pc.Appointment.Plate) {
			v = x
			break
		}
	}
	if v == nil {
		return nil // no arrival: nothing to be before
	}
	at := v.a.At.D().Seconds()
	r.ArrivedAt = &at
	var why []string
	if pub >= at {
		why = append(why, fmt.Sprintf("published at %.0fs, not before the arrival at %.0fs", pub, at))
	}
	if e.entry(v).Verdict == "" {
		return append(why, "the vehicle was not judged at the lane")
	}
	// Its inspection: the first inspection event of the plate.
	j := slices.IndexFunc(rows, func(o store.OutboxRow) bool {
		if o.Kind != store.KindInspection {
			return false
		}
		var ins struct {
			Plate string `json:"plate"`
		}
		return json.Unmarshal(o.Payload, &ins) == nil && registry.NormalizePlate(ins.Plate) == registry.NormalizePlate(v.a.Plate)
	})
	switch {
	case j < 0:
		why = append(why, "the vehicle's inspection event is not in the outbox")
	case rows[j].EventSeq <= ev.EventSeq:
		why = append(why, fmt.Sprintf("its event seq %d is not before the inspection's %d", ev.EventSeq, rows[j].EventSeq))
	}
	return why
}
