package kiosk

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/hazgate/hazgate/store"
)

// Password rules: bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	MinPasswordLen  = 10 // characters
	MaxPasswordLen  = 72 // bytes
	MaxNameLen      = 32 // characters
	PasswordCost    = 11 // bcrypt cost: about 0.1 s on a laptop, under a second on the gate's ARM cores
	maxReasonLen    = 500
	maxPlateLen     = 16
	maxSearchLen    = 64
	maxDecisionBody = 8 << 10
)

// Roles, as the store keeps them.
const (
	RoleOperator   = store.RoleOperator
	RoleSupervisor = store.RoleSupervisor
)

// CheckPassword says why pw is not acceptable as a kiosk password, or nil.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errors.New("kiosk: the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("kiosk: the password must have at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("kiosk: the password must be at most %d bytes", MaxPasswordLen)
	case strings.TrimSpace(pw) != pw:
		return errors.New("kiosk: the password must not start or end with a space")
	}
	return nil
}

// CheckName says why name is not acceptable as an account name, or nil:
// 1 to 32 letters, digits, '.', '-' or '_' (Chinese names are letters).
func CheckName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen {
		return fmt.Errorf("kiosk: an account name has 1 to %d characters", MaxNameLen)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(".-_", r) {
			return fmt.Errorf("kiosk: an account name has only letters, digits, '.', '-' and '_', not %q", r)
		}
	}
	return nil
}

// CheckRole says why role is not a kiosk role, or nil.
func CheckRole(role string) error {
	if role != RoleOperator && role != RoleSupervisor {
		return fmt.Errorf("kiosk: role %q is not %s or %s", role, RoleOperator, RoleSupervisor)
	}
	return nil
}

// HashPassword checks pw against the rules and returns its bcrypt hash.
func HashPassword(pw string) (string, error) {
	return hashPassword(pw, PasswordCost)
}

func hashPassword(pw string, cost int) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("kiosk: hash password: %w", err)
	}
	return string(h), nil
}

// NewOperator returns an account ready for store.AddOperator, after
// checking its name, role and password.
func NewOperator(name, role, password string) (store.Operator, error) {
	if err := CheckName(name); err != nil {
		return store.Operator{}, err
	}
	if err := CheckRole(role); err != nil {
		return store.Operator{}, err
	}
	h, err := HashPassword(password)
	if err != nil {
		return store.Operator{}, err
	}
	return store.Operator{Name: name, Role: role, PasswordHash: h}, nil
}

// dummyHash is compared against when the account does not exist, so that a
// wrong name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such account, no such password"), PasswordCost)
	if err != nil {
		return nil
	}
	return h
})

// verify reports whether pw is the password of op (nil: no such account,
// which takes as long and never matches).
func verify(op *store.Operator, pw string) bool {
	if op == nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(op.PasswordHash), []byte(pw)) == nil
}
