package kiosk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lanes"
	"github.com/hazgate/hazgate/store"
)

const (
	opPassword  = "correct-horse-1"
	supPassword = "battery-staple-2"
)

// heldHarness has a review held on in-1, a reject held on in-2, and in-3
// waiting for a plate; "op" is an operator and "sup" a supervisor.
func heldHarness(t *testing.T) *harness {
	h := newHarness(t, Config{}, "in-1", "in-2", "in-3")
	h.addOperator("op", RoleOperator, opPassword)
	h.addOperator("sup", RoleSupervisor, supPassword)
	h.addOperator("disabled", RoleOperator, opPassword)
	h.arrive("in-1", reviewVehicle)
	h.arrive("in-2", rejectVehicle)
	h.send("in-3", lane.VehiclePresent{})
	for name, phase := range map[string]lane.Phase{"in-1": lane.PhaseHeld, "in-2": lane.PhaseHeld, "in-3": lane.PhaseCollecting} {
		if got := h.runner(name).Snapshot().Phase; got != phase {
			t.Fatalf("lane %s is %s, want %s", name, got, phase)
		}
	}
	return h
}

func TestAPIErrorAnswers(t *testing.T) {
	h := heldHarness(t)
	anon := h.client()
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	review := h.runner("in-1").Snapshot().InspectionID
	reject := h.runner("in-2").Snapshot().InspectionID

	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"lanes without a session", anon, "GET", "/api/v1/lanes", nil, 401, errUnauthorized},
		{"events without a session", anon, "GET", "/api/v1/events", nil, 401, errUnauthorized},
		{"history without a session", anon, "GET", "/api/v1/inspections", nil, 401, errUnauthorized},
		{"release without a session", anon, "POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": review, "reason": "x"}, 401, errUnauthorized},
		{"unknown path", op, "GET", "/api/v1/nothing", nil, 404, errNotFound},
		{"wrong method", op, "DELETE", "/api/v1/lanes", nil, 405, errMethod},
		{"GET on a state change", op, "GET", "/api/v1/lanes/in-1/release", nil, 405, errMethod},
		{"login with bad JSON", anon, "POST", "/api/v1/login", []byte(`{"name":`), 400, errBadRequest},
		{"login with unknown field", anon, "POST", "/api/v1/login", map[string]string{"name": "op", "password": opPassword, "role": "supervisor"}, 400, errBadRequest},
		{"login with trailing data", anon, "POST", "/api/v1/login", []byte(`{"name":"op","password":"x"} {}`), 400, errBadRequest},
		{"login without a password", anon, "POST", "/api/v1/login", map[string]string{"name": "op"}, 422, errInvalid},
		{"login too large", anon, "POST", "/api/v1/login", map[string]string{"name": "op", "password": strings.Repeat("x", 5000)}, 413, errTooLarge},
		{"release on an unknown lane", op, "POST", "/api/v1/lanes/in-9/release", map[string]string{"inspection_id": review, "reason": "checked"}, 404, errNotFound},
		{"release without a reason", op, "POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": review, "reason": "   "}, 422, errInvalid},
		{"release with a reason too long", op, "POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": review, "reason": strings.Repeat("长", 501)}, 422, errInvalid},
		{"release of another inspection", op, "POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": reject, "reason": "checked"}, 409, errConflict},
		{"release of a lane not held", op, "POST", "/api/v1/lanes/in-3/release", map[string]string{"inspection_id": "", "reason": "checked"}, 409, errConflict},
		{"operator releasing a reject", op, "POST", "/api/v1/lanes/in-2/release", map[string]string{"inspection_id": reject, "reason": "checked"}, 403, errForbidden},
		{"operator refusing a reject", op, "POST", "/api/v1/lanes/in-2/refuse", map[string]string{"inspection_id": reject, "reason": "checked"}, 403, errForbidden},
		{"plate on a lane that has decided", op, "POST", "/api/v1/lanes/in-1/plate", map[string]string{"plate": "浙B99999"}, 409, errConflict},
		{"plate empty", op, "POST", "/api/v1/lanes/in-3/plate", map[string]string{"plate": " "}, 422, errInvalid},
		{"plate too long", op, "POST", "/api/v1/lanes/in-3/plate", map[string]string{"plate": strings.Repeat("B", 17)}, 422, errInvalid},
		{"lock-down without on", op, "POST", "/api/v1/lockdown", map[string]string{"reason": "drill"}, 422, errInvalid},
		{"lock-down without a reason", op, "POST", "/api/v1/lockdown", map[string]any{"on": true}, 422, errInvalid},
		{"operator lifting a lock-down", op, "POST", "/api/v1/lockdown", map[string]any{"on": false, "reason": "done"}, 403, errForbidden},
		{"inspection not found", op, "GET", "/api/v1/inspections/01NOSUCHINSPECTION", nil, 404, errNotFound},
		{"search with a bad verdict", op, "GET", "/api/v1/inspections?verdict=maybe", nil, 400, errBadRequest},
		{"search with a bad date", op, "GET", "/api/v1/inspections?date=15/03/2026", nil, 400, errBadRequest},
		{"search with a bad limit", op, "GET", "/api/v1/inspections?limit=0", nil, 400, errBadRequest},
		{"export without a date", op, "GET", "/api/v1/export", nil, 400, errBadRequest},
		{"supervisor: release of a lane not held", sup, "POST", "/api/v1/lanes/in-3/refuse", map[string]string{"inspection_id": "", "reason": "x"}, 409, errConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.c.do(tc.method, tc.path, tc.body)
			if a.status != tc.status || a.errCode() != tc.code {
				t.Fatalf("%s %s = %d %s, want %d %s", tc.method, tc.path, a.status, a.body, tc.status, tc.code)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/login", strings.NewReader("name=op&password=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("form login = %d, want 415", res.StatusCode)
		}
	})

	// None of those reached a lane.
	for name, phase := range map[string]lane.Phase{"in-1": lane.PhaseHeld, "in-2": lane.PhaseHeld, "in-3": lane.PhaseCollecting} {
		if s := h.runner(name).Snapshot(); s.Phase != phase || s.Lockdown || s.Evidence.Plate != "" && name == "in-3" {
			t.Fatalf("lane %s changed: %+v", name, s)
		}
	}
}

func TestCSRF(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	other := h.client().mustLogin("sup", supPassword)
	review := h.runner("in-1").Snapshot().InspectionID
	body := map[string]string{"inspection_id": review, "reason": "checked at the booth"}

	for _, tc := range []struct {
		name   string
		token  string
		header map[string]string
	}{
		{name: "no token", token: ""},
		{name: "wrong token", token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{name: "token of another session", token: other.csrf},
		{name: "token with a prefix of the right one", token: op.csrf[:10]},
		{name: "cross-site request with the right token", token: op.csrf, header: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "foreign origin with the right token", token: op.csrf, header: map[string]string{"Origin": "http://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *op
			c.csrf = tc.token
			c.header = http.Header{}
			for k, v := range tc.header {
				c.header.Set(k, v)
			}
			for _, path := range []string{"/api/v1/lanes/in-1/release", "/api/v1/lanes/in-1/refuse", "/api/v1/lockdown", "/api/v1/lanes/in-3/plate", "/api/v1/logout"} {
				var b any = body
				switch path {
				case "/api/v1/lockdown":
					b = map[string]any{"on": true, "reason": "x"}
				case "/api/v1/lanes/in-3/plate":
					b = map[string]string{"plate": "浙B12345"}
				case "/api/v1/logout":
					b = map[string]string{}
				}
				if a := c.do("POST", path, b); a.status != http.StatusForbidden || a.errCode() != errCSRF {
					t.Fatalf("POST %s = %d %s, want 403 csrf", path, a.status, a.body)
				}
			}
		})
	}
	t.Run("cross-site sign-in", func(t *testing.T) {
		c := h.client()
		c.header.Set("Sec-Fetch-Site", "cross-site")
		if a := c.login("op", opPassword); a.status != http.StatusForbidden {
			t.Fatalf("cross-site login = %d %s", a.status, a.body)
		}
	})

	// Nothing reached the lanes, nothing was audited, the session lives.
	if s := h.runner("in-1").Snapshot(); s.Phase != lane.PhaseHeld || s.Releasing || s.Lockdown {
		t.Fatalf("in-1 changed: %+v", s)
	}
	if got := h.auditActions(review); slices.Contains(got, "kiosk.release") || slices.Contains(got, "kiosk.refuse") {
		t.Fatalf("audited %v", got)
	}
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusOK {
		t.Fatalf("session ended: %d", a.status)
	}
	// With the token it goes through.
	if a := op.do("POST", "/api/v1/lanes/in-1/release", body); a.status != http.StatusAccepted {
		t.Fatalf("release with the token = %d %s", a.status, a.body)
	}
}

func TestLogin(t *testing.T) {
	h := heldHarness(t)
	for _, tc := range []struct {
		name, account, password string
		status                  int
		why                     string
	}{
		{"wrong password", "op", "wrong-password-1", 401, "wrong_password"},
		{"password of another account", "op", supPassword, 401, "wrong_password"},
		{"case of the password", "op", strings.ToUpper(opPassword), 401, "wrong_password"},
		{"unknown account", "nobody", opPassword, 401, "unknown_account"},
		{"disabled account", "disabled", opPassword, 401, "account_disabled"},
		{"right password", "op", opPassword, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client()
			a := c.login(tc.account, tc.password)
			if a.status != tc.status {
				t.Fatalf("login = %d %s, want %d", a.status, a.body, tc.status)
			}
			cookie := a.header.Get("Set-Cookie")
			if tc.status != 200 {
				if a.errCode() != errLogin || !strings.Contains(string(a.body), "wrong name or password") {
					t.Fatalf("answer %s", a.body)
				}
				if cookie != "" {
					t.Fatalf("failed login set a cookie: %s", cookie)
				}
				if got := c.do("GET", "/api/v1/lanes", nil); got.status != 401 {
					t.Fatalf("after a failed login: %d", got.status)
				}
				es, _ := h.st.AuditFor(context.Background(), "operator:"+tc.account)
				if len(es) == 0 || es[len(es)-1].Action != "kiosk.login_failed" || !bytes.Contains(es[len(es)-1].Detail, []byte(tc.why)) {
					t.Fatalf("audit %+v", es)
				}
				return
			}
			for _, want := range []string{sessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
				if !strings.Contains(cookie, want) {
					t.Fatalf("Set-Cookie %q lacks %s", cookie, want)
				}
			}
			if strings.Contains(cookie, "Secure") {
				t.Fatalf("Set-Cookie %q is Secure without TLS", cookie)
			}
			if got := c.do("GET", "/api/v1/session", nil).json(t); got["operator"] != "op" || got["role"] != RoleOperator || got["signed_in"] != true {
				t.Fatalf("session %v", got)
			}
			if got := h.auditActions("operator:op"); got[len(got)-1] != "kiosk.login" {
				t.Fatalf("audit %v", got)
			}
		})
	}
	t.Run("sign out", func(t *testing.T) {
		c := h.client().mustLogin("sup", supPassword)
		if a := c.do("POST", "/api/v1/logout", map[string]string{}); a.status != 200 {
			t.Fatalf("logout = %d %s", a.status, a.body)
		}
		if a := c.do("GET", "/api/v1/lanes", nil); a.status != 401 {
			t.Fatalf("after logout: %d", a.status)
		}
		if got := c.do("GET", "/api/v1/session", nil).json(t); got["signed_in"] != false || got["csrf"] != nil {
			t.Fatalf("session after logout %v", got)
		}
		if got := h.auditActions("operator:sup"); got[len(got)-1] != "kiosk.logout" {
			t.Fatalf("audit %v", got)
		}
	})
	t.Run("session expires when idle", func(t *testing.T) {
		c := h.client().mustLogin("op", opPassword)
		h.wallClk.Advance(h.srv.cfg.SessionIdle - 1)
		if a := c.do("GET", "/api/v1/lanes", nil); a.status != 200 {
			t.Fatalf("before the idle limit: %d", a.status)
		}
		h.wallClk.Advance(h.srv.cfg.SessionIdle)
		if a := c.do("GET", "/api/v1/lanes", nil); a.status != 401 {
			t.Fatalf("after the idle limit: %d", a.status)
		}
	})
	t.Run("session ends after the shift", func(t *testing.T) {
		c := h.client().mustLogin("op", opPassword)
		for range 8 {
			h.wallClk.Advance(h.srv.cfg.SessionMax / 8)
			c.do("GET", "/api/v1/lanes", nil)
		}
		if a := c.do("GET", "/api/v1/lanes", nil); a.status != 401 {
			t.Fatalf("after the maximum: %d", a.status)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	h := newHarness(t, Config{Login: LoginLimit{PerAccount: 3, PerIP: 5, Window: 10 * time.Minute}}, "in-1")
	h.addOperator("op", RoleOperator, opPassword)
	h.addOperator("sup", RoleSupervisor, supPassword)
	c := h.client()

	for i := range 3 {
		if a := c.login("op", "wrong-password"); a.status != 401 {
			t.Fatalf("failure %d = %d %s", i+1, a.status, a.body)
		}
		h.wallClk.Advance(time.Minute) // between attempts
	}
	a := c.login("op", opPassword)
	if a.status != http.StatusTooManyRequests || a.errCode() != errLimited {
		t.Fatalf("right password after 3 failures = %d %s, want 429", a.status, a.body)
	}
	// The first failure was 3 minutes ago: it leaves the window in 7.
	if got := a.header.Get("Retry-After"); got != "420" {
		t.Fatalf("Retry-After %q, want 420", got)
	}
	if a := c.login("OP ", opPassword); a.status != http.StatusTooManyRequests {
		t.Fatalf("the same account spelt differently = %d", a.status)
	}
	if got := h.auditActions("operator:op"); !slices.Contains(got, "kiosk.login_limited") {
		t.Fatalf("audit %v", got)
	}
	// Another account from the same address still may, until the
	// address's limit.
	if a := c.login("sup", "wrong-password"); a.status != 401 {
		t.Fatalf("other account = %d", a.status)
	}
	if a := c.login("sup", "wrong-password"); a.status != 401 {
		t.Fatalf("other account = %d", a.status)
	}
	if a := c.login("sup", supPassword); a.status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures from the address = %d, want 429", a.status)
	}
	// The window passes on the injected clock: both limits lift.
	h.wallClk.Advance(10 * time.Minute)
	if a := c.login("op", opPassword); a.status != 200 {
		t.Fatalf("after the window = %d %s", a.status, a.body)
	}
	if a := c.login("sup", supPassword); a.status != 200 {
		t.Fatalf("after the window = %d %s", a.status, a.body)
	}
	if got := testMetric(t, h, `hazgate_kiosk_logins_total{result="limited"}`); got != "3" {
		t.Fatalf("limited logins metric = %q", got)
	}
}

func TestDecisionFlow(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	in1 := h.runner("in-1").Snapshot()
	in2 := h.runner("in-2").Snapshot()

	a := op.do("POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": in1.InspectionID, "reason": "押运员到岗亭核验无误"})
	if a.status != http.StatusAccepted {
		t.Fatalf("release = %d %s", a.status, a.body)
	}
	h.send("in-1")
	if s := h.runner("in-1").Snapshot(); s.Phase != lane.PhaseOpen || s.BarrierCommanded != lane.CommandUp {
		t.Fatalf("in-1 after release: %+v", s)
	}
	ds, err := h.st.Decisions(context.Background(), in1.InspectionID)
	if err != nil || len(ds) != 1 || ds[0].Operator != "op" || ds[0].Action != store.ActionRelease || ds[0].Reason != "押运员到岗亭核验无误" {
		t.Fatalf("decisions %+v %v", ds, err)
	}
	got := h.auditActions(in1.InspectionID)
	if i, j := slices.Index(got, "kiosk.release"), slices.Index(got, "decision.release"); i < 0 || j < i {
		t.Fatalf("audit trail %v: want kiosk.release before decision.release", got)
	}

	// A supervisor refuses the rejected vehicle.
	if a := sup.do("POST", "/api/v1/lanes/in-2/refuse", map[string]string{"inspection_id": in2.InspectionID, "reason": "罐体不适装，劝返"}); a.status != http.StatusAccepted {
		t.Fatalf("refuse = %d %s", a.status, a.body)
	}
	h.send("in-2")
	ds, _ = h.st.Decisions(context.Background(), in2.InspectionID)
	if len(ds) != 1 || ds[0].Operator != "sup" || ds[0].Action != store.ActionRefuse {
		t.Fatalf("decisions %+v", ds)
	}

	// The inspection page shows them.
	d := op.do("GET", "/api/v1/inspections/"+in1.InspectionID, nil).json(t)
	if decs := d["decisions"].([]any); len(decs) != 1 || decs[0].(map[string]any)["operator"] != "op" {
		t.Fatalf("decisions on the page: %v", d["decisions"])
	}
	var actions []string
	for _, e := range d["audit"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	for _, want := range []string{"inspection.decided", "kiosk.release", "decision.release"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("audit on the page %v lacks %s", actions, want)
		}
	}
	if got := testMetric(t, h, `hazgate_inspections_total{lane="in-1",verdict="review"}`); got != "1" {
		t.Fatalf("inspections metric = %q", got)
	}
	if got := testMetric(t, h, `hazgate_check_failures_total{check="tank_media",reason="medium_not_suitable"}`); got != "1" {
		t.Fatalf("failures metric = %q", got)
	}
	if got := testMetric(t, h, `hazgate_operator_decision_seconds_count{action="release"}`); got != "1" {
		t.Fatalf("operator decision metric = %q", got)
	}
}

func TestLockdown(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	if a := op.do("POST", "/api/v1/lockdown", map[string]any{"on": true, "reason": "演练"}); a.status != http.StatusAccepted {
		t.Fatalf("lock-down = %d %s", a.status, a.body)
	}
	for _, r := range h.lanes {
		h.send(r.Name())
		if !r.Snapshot().Lockdown {
			t.Fatalf("lane %s not locked down", r.Name())
		}
	}
	in1 := h.runner("in-1").Snapshot()
	if a := sup.do("POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": in1.InspectionID, "reason": "x"}); a.status != http.StatusConflict {
		t.Fatalf("release in lock-down = %d %s", a.status, a.body)
	}
	if a := sup.do("POST", "/api/v1/lockdown", map[string]any{"on": false, "reason": "演练结束"}); a.status != http.StatusAccepted {
		t.Fatalf("lift = %d %s", a.status, a.body)
	}
	for _, r := range h.lanes {
		h.send(r.Name())
		if r.Snapshot().Lockdown {
			t.Fatalf("lane %s still locked down", r.Name())
		}
	}
	if got := h.auditActions("gate"); !slices.Equal(got, []string{"kiosk.lockdown", "kiosk.lockdown_lifted"}) {
		t.Fatalf("audit %v", got)
	}
}

func TestManualPlate(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	lanes := op.do("GET", "/api/v1/lanes", nil).json(t)["lanes"].([]any)
	if v := lanes[2].(map[string]any); v["lane"] != "in-3" || v["plate_entry"] != true {
		t.Fatalf("in-3 view %v", v)
	}
	if a := op.do("POST", "/api/v1/lanes/in-3/plate", map[string]string{"plate": " 浙B20001 ", "trailer": "浙B2001挂"}); a.status != http.StatusAccepted {
		t.Fatalf("plate = %d %s", a.status, a.body)
	}
	h.send("in-3")
	s := h.runner("in-3").Snapshot()
	if s.Evidence.Plate != "浙B20001" || s.Evidence.Trailer != "浙B2001挂" || s.PlateUnconfirmed {
		t.Fatalf("in-3 after the typed plate: %+v", s.Evidence)
	}
	if got := h.auditActions("lane:in-3"); !slices.Equal(got, []string{"kiosk.plate_entered"}) {
		t.Fatalf("audit %v", got)
	}
	if a := op.do("POST", "/api/v1/lanes/in-3/plate", map[string]string{"plate": "浙B99999"}); a.status != http.StatusConflict {
		t.Fatalf("second plate = %d", a.status)
	}
}

// keptLanes are lanes that keep the lock-down themselves (as lanes.Set
// does over the store), here failing to record a lift.
type keptLanes struct {
	*lanes.Set
	calls    []string
	failLift bool
}

func (k *keptLanes) Lockdown(ctx context.Context, on bool, by string) error {
	k.calls = append(k.calls, fmt.Sprintf("%v by %s", on, by))
	if !on && k.failLift {
		return errors.New("lock-down not lifted, it could not be recorded: disk I/O error")
	}
	return k.Set.Lockdown(ctx, on, by)
}

// Lanes that keep the lock-down switch it themselves, with who did it; a
// lift they could not record is an error, and the lanes stay locked down.
func TestLockdownKept(t *testing.T) {
	h := heldHarness(t)
	kept := &keptLanes{Set: h.gate.Lanes, failLift: true}
	h.srv.deps.Lanes = kept
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	if a := op.do("POST", "/api/v1/lockdown", map[string]any{"on": true, "reason": "演练"}); a.status != http.StatusAccepted {
		t.Fatalf("lock-down = %d %s", a.status, a.body)
	}
	if a := sup.do("POST", "/api/v1/lockdown", map[string]any{"on": false, "reason": "演练结束"}); a.status != http.StatusInternalServerError {
		t.Fatalf("lift that could not be recorded = %d %s", a.status, a.body)
	}
	if want := []string{"true by operator:op", "false by operator:sup"}; !slices.Equal(kept.calls, want) {
		t.Fatalf("lock-down calls %v, want %v", kept.calls, want)
	}
	for _, r := range h.lanes {
		h.send(r.Name())
		if !r.Snapshot().Lockdown {
			t.Fatalf("lane %s lifted although the lift was not recorded", r.Name())
		}
	}
	// The audit log says the lift was asked for and failed.
	if got, want := h.auditActions("gate"), []string{"kiosk.lockdown", "kiosk.lockdown_lifted", "kiosk.lockdown_lift_failed"}; !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

// Disabling an account (hazgate operator disable) ends its sessions at
// their next request, as does a change of role; when the accounts cannot
// be read, changes are refused and reads go on.
func TestDisabledAccountSessionEnds(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusOK {
		t.Fatalf("lanes = %d %s", a.status, a.body)
	}

	h.accounts.failWith(errors.New("disk I/O error"))
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusOK {
		t.Fatalf("a read while the accounts cannot be read = %d %s", a.status, a.body)
	}
	if a := op.do("POST", "/api/v1/lockdown", map[string]any{"on": true, "reason": "演练"}); a.status != http.StatusServiceUnavailable {
		t.Fatalf("a change while the accounts cannot be read = %d %s", a.status, a.body)
	}
	h.accounts.failWith(nil)

	h.disable("op", true)
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("a disabled account's request = %d %s", a.status, a.body)
	}
	h.disable("op", false)
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("the ended session came back when the account was enabled: %d %s", a.status, a.body)
	}
	if a := op.login("op", opPassword); a.status != http.StatusOK {
		t.Fatalf("sign-in after enabling = %d %s", a.status, a.body)
	}

	// Disabled and enabled again between two requests: the session
	// still ends (any change to the account does).
	h.disable("op", true)
	h.disable("op", false)
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("a session outlived its account being disabled and enabled: %d %s", a.status, a.body)
	}
	if info := op.do("GET", "/api/v1/session", nil).json(t); info["signed_in"] == true {
		t.Fatalf("the session endpoint still reports the ended session: %v", info)
	}
	op.mustLogin("op", opPassword)

	// A new password (add -replace, same role) ends the old sessions.
	hash, err := hashPassword("new-password-3", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.AddOperator(context.Background(), store.Operator{Name: "op", Role: RoleOperator, PasswordHash: hash}, true, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("a session outlived a password reset: %d %s", a.status, a.body)
	}

	// The supervisor is made an operator: their session (a supervisor's)
	// ends, and they sign in again with the new role.
	hash, err = hashPassword(supPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.AddOperator(context.Background(), store.Operator{Name: "sup", Role: RoleOperator, PasswordHash: hash}, true, t0); err != nil {
		t.Fatal(err)
	}
	if a := sup.do("POST", "/api/v1/lockdown", map[string]any{"on": false, "reason": "演练结束"}); a.status != http.StatusUnauthorized {
		t.Fatalf("a demoted supervisor's old session lifting a lock-down = %d %s", a.status, a.body)
	}
}
