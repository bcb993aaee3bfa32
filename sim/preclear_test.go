package sim

import (
	"strings"
	"testing"
)

func TestPreclearancesParseErrors(t *testing.T) {
	const base = `name: x
clock: 2026-03-15T09:00:00+08:00
registry:
  vehicles: []
  appointments:
    - {id: AP-1, plate: 浙B12345, company: 测试化工, from: 2026-03-15T10:00:00+08:00, until: 2026-03-15T12:00:00+08:00}
preclearances:
PRE
arrivals:
  - at: 5s
    lane: in-1
    plate: 浙B12345
`
	for _, tt := range []struct{ name, pre, want string }{
		{"unknown appointment", "  - {appointment: AP-9, verdict: pass}", `s.yaml:8: preclearances[0].appointment: "AP-9" is not an appointment of the registry`},
		{"bad verdict", "  - {appointment: AP-1, verdict: maybe}", `preclearances[0].verdict: "maybe" is not pass, reject or review`},
		{"check not pre-cleared", "  - {appointment: AP-1, verdict: reject, failed: [identity]}", `preclearances[0].failed[0]: "identity" is not a check a pre-clearance judges`},
		{"unknown key", "  - {appointment: AP-1, verdict: pass, lane: in-1}", "preclearances[0].lane: unknown key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(base, "PRE", tt.pre, 1)), "s.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
	ok := strings.Replace(base, "PRE", "  - {appointment: AP-1, verdict: reject, failed: [inspection_validity], reasons: [inspection_expired]}", 1)
	sc, err := Parse([]byte(ok), "s.yaml")
	if err != nil || len(sc.Preclearances) != 1 || sc.Preclearances[0].Failed == nil || (*sc.Preclearances[0].Failed)[0] != "inspection_validity" {
		t.Fatalf("%+v, %v", sc, err)
	}
}

// A scenario whose pre-clearance expectation the gate does not meet fails
// its run, saying why.
func TestPreclearanceExpectationCanFail(t *testing.T) {
	sc, err := Load("testdata/98-preclearance-fails-judged-again.yaml")
	if err != nil {
		t.Fatal(err)
	}
	failed := []string{"tank_media"}
	sc.Preclearances[0].Verdict = "pass"
	sc.Preclearances[0].Failed = &failed
	sc.Preclearances[0].Reasons = []string{"medium_not_suitable"}
	rep := runParsed(t, sc, Options{})
	if rep.Failed != 1 || len(rep.Preclearances) != 1 {
		t.Fatalf("failed %d, preclearances %+v: want the expectation to fail", rep.Failed, rep.Preclearances)
	}
	p := rep.Preclearances[0]
	for _, want := range []string{"verdict reject, expected pass", "failed [inspection_validity], expected [tank_media]", "no reason medium_not_suitable"} {
		if p.OK || !strings.Contains(p.Why, want) {
			t.Fatalf("why %q: want %q", p.Why, want)
		}
	}
	if p.PublishedAt == nil || p.ArrivedAt == nil || *p.PublishedAt >= *p.ArrivedAt {
		t.Fatalf("published at %v, arrived at %v", p.PublishedAt, p.ArrivedAt)
	}
}
