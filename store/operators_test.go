package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// fakeHash looks like a bcrypt hash; the store only keeps it.
const fakeHash = "$2a$04$abcdefghijklmnopqrstuuSyntheticHashForTestsOnly0123456"

func TestAddOperator(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	op := Operator{Name: "王五", Role: RoleOperator, PasswordHash: fakeHash}
	if err := s.AddOperator(ctx, op, false, t0); err != nil {
		t.Fatalf("AddOperator: %v", err)
	}
	got, err := s.Operator(ctx, "王五")
	if err != nil {
		t.Fatalf("Operator: %v", err)
	}
	if got.Role != RoleOperator || got.PasswordHash != fakeHash || got.Disabled || !got.CreatedAt.Equal(t0) {
		t.Fatalf("Operator = %+v", got)
	}
	if err := s.AddOperator(ctx, op, false, t0); !errors.Is(err, ErrExists) {
		t.Fatalf("adding again = %v, want ErrExists", err)
	}
	op.Role = RoleSupervisor
	if err := s.AddOperator(ctx, op, true, t0.Add(time.Hour)); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, _ := s.Operator(ctx, "王五"); got.Role != RoleSupervisor || !got.UpdatedAt.Equal(t0.Add(time.Hour)) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after replace: %+v", got)
	}
	if _, err := s.Operator(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Operator(nobody) = %v, want ErrNotFound", err)
	}
	all, err := s.Operators(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("Operators = %v, %v", all, err)
	}
	audit, err := s.AuditFor(ctx, "operator:王五")
	if err != nil || len(audit) != 2 || audit[0].Action != "operator.added" || audit[1].Action != "operator.replaced" {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
	for _, e := range audit {
		if string(e.Detail) != `{"name":"王五","role":"operator"}` && string(e.Detail) != `{"name":"王五","role":"supervisor"}` {
			t.Fatalf("audit detail %s", e.Detail)
		}
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAddOperatorInvalid(t *testing.T) {
	s, _ := openTest(t)
	for name, op := range map[string]Operator{
		"no name":    {Role: RoleOperator, PasswordHash: fakeHash},
		"bad role":   {Name: "a", Role: "admin", PasswordHash: fakeHash},
		"not a hash": {Name: "a", Role: RoleOperator, PasswordHash: "secret-password"},
		"empty hash": {Name: "a", Role: RoleOperator},
		"blank name": {Name: "  ", Role: RoleOperator, PasswordHash: fakeHash},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.AddOperator(context.Background(), op, false, t0); !errors.Is(err, ErrInvalid) {
				t.Fatalf("AddOperator = %v, want ErrInvalid", err)
			}
		})
	}
}

// An account is disabled and enabled again, each audited; an unknown one
// is ErrNotFound.
func TestSetOperatorDisabled(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.AddOperator(ctx, Operator{Name: "lee", Role: RoleOperator, PasswordHash: fakeHash}, false, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOperatorDisabled(ctx, "lee", true, "installer", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if op, err := s.Operator(ctx, "lee"); err != nil || !op.Disabled || !op.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after disable: %+v, %v", op, err)
	}
	if err := s.SetOperatorDisabled(ctx, "lee", false, "installer", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if op, err := s.Operator(ctx, "lee"); err != nil || op.Disabled || op.Generation != 2 {
		t.Fatalf("after enable: %+v, %v (want generation 2: every change counts)", op, err)
	}
	if err := s.AddOperator(ctx, Operator{Name: "lee", Role: RoleOperator, PasswordHash: fakeHash}, true, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if op, _ := s.Operator(ctx, "lee"); op.Generation != 3 {
		t.Fatalf("a replaced account's generation is %d, want 3", op.Generation)
	}
	if err := s.SetOperatorDisabled(ctx, "nobody", true, "installer", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable nobody = %v, want ErrNotFound", err)
	}
	entries, err := s.AuditFor(ctx, "operator:lee")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" by "+e.Actor)
	}
	if want := []string{"operator.added by system", "operator.disabled by installer", "operator.enabled by installer", "operator.replaced by system"}; !slices.Equal(actions, want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
}

func TestUnlockOperator(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.AddOperator(ctx, Operator{Name: "zhang", Role: RoleSupervisor, PasswordHash: fakeHash}, false, t0); err != nil {
		t.Fatal(err)
	}
	before, err := s.Operator(ctx, "zhang")
	if err != nil || before.Unlocks != 0 {
		t.Fatalf("new account: %+v, %v", before, err)
	}
	if err := s.UnlockOperator(ctx, "zhang", "operator:li", "locked out from 10.0.0.9", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockOperator(ctx, "zhang", "cli:root", "", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	after, err := s.Operator(ctx, "zhang")
	if err != nil || after.Unlocks != 2 {
		t.Fatalf("after two unlocks: %+v, %v", after, err)
	}
	// An unlock is not a change to the account: its sessions go on.
	if after.Generation != before.Generation || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("an unlock changed the account: %+v, was %+v", after, before)
	}
	if err := s.UnlockOperator(ctx, "nobody", "cli:root", "", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlock nobody = %v, want ErrNotFound", err)
	}
	if err := s.UnlockOperator(ctx, "zhang", "", "", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unlock without an actor = %v, want ErrInvalid", err)
	}
	entries, err := s.AuditFor(ctx, "operator:zhang")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" by "+e.Actor+" "+string(e.Detail))
	}
	want := []string{
		`operator.added by system {"name":"zhang","role":"supervisor"}`,
		`operator.unlocked by operator:li {"name":"zhang","reason":"locked out from 10.0.0.9"}`,
		`operator.unlocked by cli:root {"name":"zhang"}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit\n%v\nwant\n%v", got, want)
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}
