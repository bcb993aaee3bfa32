package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// Report is a run's result, the JSON that -report writes.
type Report struct {
	Scenario    string        `json:"scenario"`
	Inspections []ReportEntry `json:"inspections"`
	// Rejected is what was rejected while no vehicle was at its lane
	// (each inspection lists its own).
	Rejected []Rejection `json:"rejected"`
	Passed   int         `json:"passed"`
	Failed   int         `json:"failed"`
	// Lanes is what each lane's voice board said and its display showed
	// (voice.go).
	Lanes map[string]LaneTalk `json:"lanes"`
	// Alarms are the alarm kinds the gate raised during the run, each
	// once; MissingAlarms those of the scenario's alarms it did not (each
	// counts as a failure).
	Alarms        []string `json:"alarms"`
	MissingAlarms []string `json:"missing_alarms,omitempty"`
	// Preclearances are the scenario's expected pre-clearances as the run
	// found them (preclear.go); each that differs counts as a failure.
	Preclearances []PreclearReport `json:"preclearances,omitempty"`
}

// ReportEntry is one arrival's outcome.
type ReportEntry struct {
	Lane         string                 `json:"lane"`
	Plate        string                 `json:"plate"`
	Trailer      string                 `json:"trailer"`
	Verdict      checks.Verdict         `json:"verdict"`
	Checks       map[string]ReportCheck `json:"checks"`
	Expect       *Expect                `json:"expect"`
	OK           bool                   `json:"ok"`
	InspectionID string                 `json:"inspection_id,omitempty"`
	At           float64                `json:"at_s"`
	DecidedAfter float64                `json:"decided_after_s"`
	Failed       []string               `json:"failed"`
	Crossed      bool                   `json:"crossed"`
	Alarms       []string               `json:"alarms"`
	// Waybill is the waybill judged, WaybillSource how it was found
	// (scanned, by_plate).
	Waybill       string                     `json:"waybill,omitempty"`
	WaybillSource string                     `json:"waybill_source,omitempty"`
	Rejected      []Rejection                `json:"rejected"`
	Messages      map[string][]checks.Reason `json:"-"`
}

// Rejection is a scan, card or plate read refused while a vehicle was at
// its lane: the scanner's driver rejected a scan, a reader could not read a
// card, the gate's plate endpoint refused a camera's push. It is an event of
// the run like any other: the vehicle goes on to its deadline.
type Rejection struct {
	Device string  `json:"device"` // the device's full name: in-1/scanner
	What   string  `json:"what"`   // scan, card or plate
	Reason string  `json:"reason"` // why, in plain words
	At     float64 `json:"at_s"`   // when, in seconds into the scenario
}

// String is the rejection in a sentence: "in-1/scanner rejected a scan:
// line too long (more than 4096 bytes)".
func (r Rejection) String() string {
	verb := "rejected a " + r.What
	switch r.What {
	case rejectedCard:
		verb = "could not read a card"
	case rejectedPlate:
		verb = "had its read refused"
	}
	return r.Device + " " + verb + ": " + r.Reason
}

// What was rejected.
const (
	rejectedScan  = "scan"
	rejectedCard  = "card"
	rejectedPlate = "plate"
)

// rejected notes a rejection at lane l: a progress line, and an entry in
// the report for v (the lane's vehicle at the time; nil: none, and the
// rejection is listed with the run's).
func (e *Engine) rejected(l *simLane, v *vehicle, device, what string, reason error) {
	r := Rejection{Device: device, What: what, Reason: plainReason(reason), At: e.clk.Now().Sub(e.start).Seconds()}
	e.printf("[%s] %s device %s\n", e.offset(e.clk.Now()), pad(l.name, 6), r)
	if v != nil {
		l.mu.Lock()
		v.rejected = append(v.rejected, r)
		l.mu.Unlock()
		return
	}
	e.mu.Lock()
	e.orphans = append(e.orphans, r)
	e.mu.Unlock()
}

// plainReason is a driver's error in plain words: without the packages'
// prefixes, and without "no waybill number in the scan" when it says more.
func plainReason(err error) string {
	s := errText(err)
	for _, pre := range []string{"scanner: ", "idcard: ", "plate: "} {
		s = strings.ReplaceAll(s, pre, "")
	}
	if rest, ok := strings.CutPrefix(s, "no waybill number in the scan: "); ok && rest != "" {
		s = rest
	}
	return s
}

// ReportCheck is one check's result in a report.
type ReportCheck struct {
	Result  checks.Result `json:"result"`
	Reasons []string      `json:"reasons"`
}

// Transit is one vehicle's time from pulling up onto the arrival loop to
// the barrier commanded up for it, on the scenario's clock and on the wall
// clock (docs/benchmarks.md, "Inspection time").
type Transit struct {
	Lane, Plate string
	Verdict     checks.Verdict
	Sim, Wall   time.Duration
}

// Transits are the run's vehicles whose barrier was commanded up, in
// arrival order. Call it after Run.
func (e *Engine) Transits() []Transit {
	var out []Transit
	for _, v := range e.vehicles {
		l := e.lanes[v.a.Lane]
		l.mu.Lock()
		t := Transit{Lane: v.a.Lane, Plate: v.a.Plate, Sim: v.commandedAt.Sub(v.arrived), Wall: v.wallCommanded.Sub(v.wallArrived)}
		commanded := !v.wallCommanded.IsZero()
		l.mu.Unlock()
		if !commanded {
			continue
		}
		e.mu.Lock()
		if v.outcome != nil {
			t.Verdict = v.outcome.Verdict
		}
		e.mu.Unlock()
		out = append(out, t)
	}
	return out
}

// decided notes a vehicle's verdict and prints its progress line.
func (e *Engine) decided(v *vehicle, out checks.Outcome, id string, at time.Time) {
	var wb, src string
	if ins, err := e.gate.Store.GetInspection(context.Background(), id); err == nil {
		wb, src = ins.Evidence.Waybill, ins.Evidence.WaybillSource
	}
	e.mu.Lock()
	v.outcome = &out
	v.decidedAt = at
	v.waybill, v.waybillSource = wb, src
	e.mu.Unlock()
	if e.opt.Progress == nil {
		return
	}
	// Whether it crosses, and its alarms, are judged when it has left.
	entry := e.entry(v)
	mark := "ok"
	if x := v.a.Expect; x != nil && !matches(entry, &Expect{Verdict: x.Verdict, Failed: x.Failed}) {
		mark = "DIFFERS from expected " + expectString(v.a.Expect)
	}
	detail := ""
	if f := out.Failed(); len(f) > 0 {
		detail = " failed " + strings.Join(f, ",")
	} else if out.Verdict == checks.VerdictReview {
		detail = " " + strings.Join(unknownCodes(out), ",")
	}
	e.printf("[%s] %s %s %-6s after %4.0fs  %s%s\n", e.offset(at), pad(v.a.Lane, 6), pad(plateString(v.a), 22), out.Verdict, at.Sub(v.arrived).Seconds(), mark, detail)
}

// printf prints a progress line (from any goroutine).
func (e *Engine) printf(format string, args ...any) {
	if e.opt.Progress == nil {
		return
	}
	e.out.Lock()
	defer e.out.Unlock()
	fmt.Fprintf(e.opt.Progress, format, args...)
}

// note prints a progress line about a vehicle.
func (e *Engine) note(v *vehicle, what string) {
	e.printf("[%s] %s %s %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), what)
}

func (e *Engine) finished(v *vehicle) {
	e.mu.Lock()
	e.done++
	decided := v.outcome != nil
	e.mu.Unlock()
	if decided {
		if x := v.a.Expect; x != nil && (x.Crossed != nil || x.Alarms != nil) {
			if entry := e.entry(v); !entry.OK {
				e.printf("[%s] %s %s left (crossed %t, alarms %v)  DIFFERS from expected %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), entry.Crossed, entry.Alarms, expectString(x))
			}
		}
		return
	}
	if e.opt.Progress != nil {
		// An exit, or a vehicle that left before any verdict.
		entry := e.entry(v)
		mark := "ok"
		if !entry.OK {
			mark = "DIFFERS from expected " + expectString(v.a.Expect)
		}
		what := "left without a verdict"
		if v.opened {
			what = "exit   opened"
		}
		e.printf("[%s] %s %s %s  %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), what, mark)
	}
}

func unknownCodes(out checks.Outcome) []string {
	var codes []string
	for _, c := range out.Checks {
		if c.Result == checks.Unknown {
			for _, r := range c.Codes() {
				if !slices.Contains(codes, r) {
					codes = append(codes, r)
				}
			}
		}
	}
	for _, r := range out.Reasons {
		codes = append(codes, r.Code)
	}
	return codes
}

func plateString(a Arrival) string {
	if a.Trailer != "" {
		return a.Plate + "/" + a.Trailer
	}
	if a.Plate == "" {
		return "(no plate)"
	}
	return a.Plate
}

func expectString(x *Expect) string {
	if x == nil {
		return "(none)"
	}
	s := string(x.Verdict)
	if x.Failed != nil {
		s += " failed [" + strings.Join(*x.Failed, ",") + "]"
	}
	if x.Crossed != nil {
		s += map[bool]string{true: " crossed", false: " not crossed"}[*x.Crossed]
	}
	if x.Alarms != nil {
		s += " alarms [" + strings.Join(*x.Alarms, ",") + "]"
	}
	if x.Waybill != "" || x.WaybillSource != "" {
		s += " waybill " + strings.TrimSpace(x.Waybill+" "+x.WaybillSource)
	}
	return s
}

// entry is a vehicle's line in the report.
func (e *Engine) entry(v *vehicle) ReportEntry {
	r := ReportEntry{Lane: v.a.Lane, Plate: v.a.Plate, Trailer: v.a.Trailer, Checks: map[string]ReportCheck{}, Expect: v.a.Expect, At: v.a.At.D().Seconds(), Failed: []string{}}
	if l := e.lanes[v.a.Lane]; l != nil {
		l.mu.Lock()
		r.Crossed = v.opened
		r.Alarms = slices.Compact(slices.Sorted(slices.Values(v.alarms)))
		r.Rejected = slices.Clone(v.rejected)
		l.mu.Unlock()
	}
	if r.Alarms == nil {
		r.Alarms = []string{}
	}
	if r.Rejected == nil {
		r.Rejected = []Rejection{}
	}
	switch {
	case v.outcome != nil:
		r.Verdict = v.outcome.Verdict
		r.Waybill, r.WaybillSource = v.waybill, v.waybillSource
		for _, c := range v.outcome.Checks {
			r.Checks[c.ID] = ReportCheck{Result: c.Result, Reasons: c.Codes()}
		}
		if f := v.outcome.Failed(); f != nil {
			r.Failed = f
		}
		r.DecidedAfter = v.decidedAt.Sub(v.arrived).Seconds()
	case IsExit(v.a.Lane) && v.opened:
		r.Verdict = checks.VerdictPass // exits run no checks: recorded and opened
	default:
		r.Verdict = checks.VerdictReview // held for the operator, or left undecided
	}
	r.OK = matches(r, v.a.Expect)
	return r
}

// matches compares an entry with its expectation: the verdict, and when
// given, the exact set of failed checks. No expectation always matches.
func matches(r ReportEntry, x *Expect) bool {
	if x == nil {
		return true
	}
	if r.Verdict != x.Verdict {
		return false
	}
	if x.Crossed != nil && *x.Crossed != r.Crossed {
		return false
	}
	if x.Alarms != nil && !sameSet(*x.Alarms, r.Alarms) {
		return false
	}
	if (x.Waybill != "" && x.Waybill != r.Waybill) || (x.WaybillSource != "" && x.WaybillSource != r.WaybillSource) {
		return false
	}
	return x.Failed == nil || sameSet(*x.Failed, r.Failed)
}

// sameSet compares two lists as sets.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func (e *Engine) report() *Report {
	e.mu.Lock()
	rep := &Report{Scenario: e.sc.Name, Inspections: []ReportEntry{}, Rejected: append([]Rejection{}, e.orphans...),
		Alarms: slices.Compact(slices.Sorted(slices.Values(e.raised)))}
	e.mu.Unlock()
	if rep.Alarms == nil {
		rep.Alarms = []string{}
	}
	for _, k := range e.sc.Alarms {
		if !slices.Contains(rep.Alarms, k) {
			rep.MissingAlarms = append(rep.MissingAlarms, k)
			rep.Failed++
		}
	}
	rep.Lanes = e.talk()
	for _, v := range e.vehicles {
		r := e.entry(v)
		rep.Inspections = append(rep.Inspections, r)
		if r.OK {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	return rep
}
