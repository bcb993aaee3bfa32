package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kiosk roles. A supervisor may also decide rejected vehicles and lift a
// lock-down.
const (
	RoleOperator   = "operator"
	RoleSupervisor = "supervisor"
)

// ErrExists: the record to add is already there.
var ErrExists = errors.New("already exists")

// Operator is a kiosk account. PasswordHash is a bcrypt hash; the store
// never sees a password.
type Operator struct {
	Name         string
	Role         string // RoleOperator or RoleSupervisor
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Generation goes up by one with every change to the account (a new
	// password or role, disabled, enabled).
	Generation int64
	// Unlocks goes up by one with every UnlockOperator: the kiosk forgets
	// the account's failed sign-ins counted before it.
	Unlocks int64
}

// AddOperator durably records an account with an "operator.added" (or,
// replacing one, "operator.replaced") audit entry, stamped at. An existing
// name is an error matching ErrExists unless replace is set, when its role
// and password hash are replaced (and it is enabled again). The audit entry
// names the account and its role, never the hash.
func (s *Store) AddOperator(ctx context.Context, op Operator, replace bool, at time.Time) error {
	var bad []string
	if strings.TrimSpace(op.Name) == "" {
		bad = append(bad, "no name")
	}
	if op.Role != RoleOperator && op.Role != RoleSupervisor {
		bad = append(bad, fmt.Sprintf("role %q is not operator or supervisor", op.Role))
	}
	if !strings.HasPrefix(op.PasswordHash, "$2") {
		bad = append(bad, "password hash is not a bcrypt hash")
	}
	if at.IsZero() {
		bad = append(bad, "at is zero")
	}
	if len(bad) > 0 {
		return fmt.Errorf("store: add operator: %w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return s.write(ctx, "add operator "+op.Name, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operators WHERE name = ?`, op.Name).Scan(&n); err != nil {
			return err
		}
		action := "operator.added"
		switch {
		case n > 0 && !replace:
			return fmt.Errorf("operator %q: %w", op.Name, ErrExists)
		case n > 0:
			action = "operator.replaced"
			if _, err := tx.ExecContext(ctx, `UPDATE operators SET role = ?, password_hash = ?, disabled = 0, updated_at = ?, generation = generation + 1 WHERE name = ?`,
				op.Role, op.PasswordHash, fmtTime(at), op.Name); err != nil {
				return err
			}
		default:
			if _, err := tx.ExecContext(ctx, `INSERT INTO operators (name, role, password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)`,
				op.Name, op.Role, op.PasswordHash, fmtTime(at), fmtTime(at)); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, ActorSystem, action, "operator:"+op.Name, map[string]any{"name": op.Name, "role": op.Role}, at)
	})
}

const operatorColumns = `name, role, password_hash, disabled, created_at, updated_at, generation, unlocks`

func scanOperator(sc interface{ Scan(...any) error }) (Operator, error) {
	var op Operator
	var created, updated string
	if err := sc.Scan(&op.Name, &op.Role, &op.PasswordHash, &op.Disabled, &created, &updated, &op.Generation, &op.Unlocks); err != nil {
		return Operator{}, err
	}
	var err error
	if op.CreatedAt, err = parseTime(created); err != nil {
		return Operator{}, err
	}
	if op.UpdatedAt, err = parseTime(updated); err != nil {
		return Operator{}, err
	}
	return op, nil
}

// Operator returns the account with this name, or an error matching
// ErrNotFound.
func (s *Store) Operator(ctx context.Context, name string) (Operator, error) {
	op, err := scanOperator(s.reader.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, fmt.Errorf("store: operator %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Operator{}, fmt.Errorf("store: operator %q: %w", name, err)
	}
	return op, nil
}

// Operators returns every account, by name.
func (s *Store) Operators(ctx context.Context) ([]Operator, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: operators: %w", err)
	}
	defer rows.Close()
	var out []Operator
	for rows.Next() {
		op, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("store: operators: %w", err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: operators: %w", err)
	}
	return out, nil
}

// SetOperatorDisabled disables an account (it can no longer sign in, and the
// kiosk ends its sessions at their next request) or enables it again, with
// an "operator.disabled" or "operator.enabled" audit entry by actor,
// stamped at. An unknown name is an error matching ErrNotFound.
func (s *Store) SetOperatorDisabled(ctx context.Context, name string, disabled bool, actor string, at time.Time) error {
	if strings.TrimSpace(actor) == "" || at.IsZero() {
		return fmt.Errorf("store: operator %q: %w: who and when are required", name, ErrInvalid)
	}
	action := "operator.enabled"
	if disabled {
		action = "operator.disabled"
	}
	return s.write(ctx, action+" "+name, func(tx *sql.Tx) error {
		if err := updateOperator(ctx, tx, name, `UPDATE operators SET disabled = ?, updated_at = ?, generation = generation + 1 WHERE name = ?`, disabled, fmtTime(at), name); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, actor, action, "operator:"+name, map[string]any{"name": name}, at)
	})
}

// UnlockOperator clears an account's sign-in lockouts, from every address:
// it counts the account's Unlocks up by one (the kiosk forgets the failures
// counted before), with an "operator.unlocked" audit entry by actor,
// stamped at, that carries reason. It changes nothing else: the account's
// sessions go on. An unknown name is an error matching ErrNotFound.
func (s *Store) UnlockOperator(ctx context.Context, name, actor, reason string, at time.Time) error {
	if strings.TrimSpace(actor) == "" || at.IsZero() {
		return fmt.Errorf("store: unlock operator %q: %w: who and when are required", name, ErrInvalid)
	}
	return s.write(ctx, "operator.unlocked "+name, func(tx *sql.Tx) error {
		if err := updateOperator(ctx, tx, name, `UPDATE operators SET unlocks = unlocks + 1 WHERE name = ?`, name); err != nil {
			return err
		}
		detail := map[string]any{"name": name}
		if reason != "" {
			detail["reason"] = reason
		}
		return s.appendAudit(ctx, tx, actor, "operator.unlocked", "operator:"+name, detail, at)
	})
}

// updateOperator runs an UPDATE of the account name; an account that does
// not exist is an error matching ErrNotFound.
func updateOperator(ctx context.Context, tx *sql.Tx, name, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("operator %q: %w", name, ErrNotFound)
	}
	return nil
}
