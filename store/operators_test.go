package store

import (
	"context"
	"errors"
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
