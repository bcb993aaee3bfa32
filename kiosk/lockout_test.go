package kiosk

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/store"
)

// A hostile terminal failing a supervisor's password locks that terminal
// out of the account, never the supervisor at their own; a second
// supervisor at the kiosk, or `hazgate operator unlock` while the kiosk
// runs, clears the lockout, and the audit log says who did.
func TestLockoutPerAddress(t *testing.T) {
	h := newHarness(t, Config{Login: LoginLimit{PerAccount: 3, PerIP: 20, Window: 15 * time.Minute}}, "in-1")
	h.addOperator("zhang", RoleSupervisor, supPassword)
	h.addOperator("li", RoleSupervisor, supPassword+"x")
	h.addOperator("op", RoleOperator, opPassword)
	hostile := h.clientFrom("127.0.0.66")
	lockOut := func() {
		t.Helper()
		for i := range 3 {
			if a := hostile.login("zhang", "guess-guess-"+string(rune('a'+i))); a.status != 401 {
				t.Fatalf("hostile failure %d = %d %s", i+1, a.status, a.body)
			}
		}
		if a := hostile.login("zhang", supPassword); a.status != http.StatusTooManyRequests {
			t.Fatalf("the right password from the locked address = %d, want 429", a.status)
		}
	}
	lockOut()
	// The hostile address goes on failing as fast as it is let: each try
	// is refused, and the supervisor's own terminal never is.
	for range 50 {
		hostile.login("zhang", "guess-again-1")
		h.wallClk.Advance(time.Minute)
	}
	if a := h.clientFrom("127.0.0.1").login("zhang", supPassword); a.status != 200 {
		t.Fatalf("zhang from their own terminal = %d %s", a.status, a.body)
	}

	// A second supervisor sees the lockout and clears it, with a reason.
	li := h.clientFrom("127.0.0.2").mustLogin("li", supPassword+"x")
	locks := li.do("GET", "/api/v1/lockouts", nil)
	if locks.status != 200 || !strings.Contains(string(locks.body), `{"account":"zhang","ip":"127.0.0.66"`) {
		t.Fatalf("lockouts = %d %s", locks.status, locks.body)
	}
	op := h.client().mustLogin("op", opPassword)
	for _, tc := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
	}{
		{"an operator lists", op, "GET", "/api/v1/lockouts", nil, 403},
		{"an operator unlocks", op, "POST", "/api/v1/operators/zhang/unlock", map[string]string{"reason": "x"}, 403},
		{"without a reason", li, "POST", "/api/v1/operators/zhang/unlock", map[string]string{"reason": " "}, 422},
		{"an unknown account", li, "POST", "/api/v1/operators/zhan/unlock", map[string]string{"reason": "x"}, 404},
	} {
		if a := tc.c.do(tc.method, tc.path, tc.body); a.status != tc.status {
			t.Errorf("%s = %d %s, want %d", tc.name, a.status, a.body, tc.status)
		}
	}
	if a := hostile.login("zhang", supPassword); a.status != http.StatusTooManyRequests {
		t.Fatalf("before the unlock = %d, want 429", a.status)
	}
	a := li.do("POST", "/api/v1/operators/zhang/unlock", map[string]string{"reason": "张主管在 66 号终端输错密码，已电话核实"})
	if a.status != 200 || !strings.Contains(string(a.body), `"addresses":["127.0.0.66"]`) {
		t.Fatalf("unlock = %d %s", a.status, a.body)
	}
	if a := li.do("GET", "/api/v1/lockouts", nil); !strings.Contains(string(a.body), `"lockouts":[]`) {
		t.Fatalf("lockouts after the unlock: %s", a.body)
	}
	if a := hostile.login("zhang", supPassword); a.status != 200 {
		t.Fatalf("from the unlocked address = %d %s", a.status, a.body)
	}

	// Locked again; `hazgate operator unlock` runs as another process on
	// the same database while the kiosk runs.
	lockOut()
	cli, err := store.Open(context.Background(), h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.UnlockOperator(context.Background(), "zhang", "cli:root", "by telephone", time.Now()); err != nil {
		t.Fatal(err)
	}
	if a := hostile.login("zhang", supPassword); a.status != 200 {
		t.Fatalf("after the CLI's unlock = %d %s", a.status, a.body)
	}

	var got []string
	entries, err := h.st.AuditFor(context.Background(), "operator:zhang")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action == "operator.unlocked" {
			got = append(got, e.Actor+" "+string(e.Detail))
		}
	}
	want := []string{
		`operator:li {"name":"zhang","reason":"张主管在 66 号终端输错密码，已电话核实"}`,
		`cli:root {"name":"zhang","reason":"by telephone"}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("unlocks audited\n%v\nwant\n%v", got, want)
	}
}

// The address's own limit still stops one terminal trying many accounts,
// and lifts only for that terminal.
func TestLockoutOfAnAddress(t *testing.T) {
	h := newHarness(t, Config{Login: LoginLimit{PerAccount: 5, PerIP: 4, Window: 15 * time.Minute}}, "in-1")
	h.addOperator("zhang", RoleSupervisor, supPassword)
	hostile := h.clientFrom("127.0.0.66")
	for _, name := range []string{"a", "b", "c", "d"} {
		if a := hostile.login(name, "guess-guess-1"); a.status != 401 {
			t.Fatalf("%s = %d", name, a.status)
		}
	}
	if a := hostile.login("zhang", supPassword); a.status != http.StatusTooManyRequests {
		t.Fatalf("from the sprayed address = %d, want 429", a.status)
	}
	if a := h.clientFrom("127.0.0.1").login("zhang", supPassword); a.status != 200 {
		t.Fatalf("from another address = %d", a.status)
	}
	li := h.clientFrom("127.0.0.1")
	li.mustLogin("zhang", supPassword)
	if a := li.do("GET", "/api/v1/lockouts", nil); !strings.Contains(string(a.body), `{"account":"","ip":"127.0.0.66","failures":4`) {
		t.Fatalf("lockouts %s", a.body)
	}
}
