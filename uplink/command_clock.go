package uplink

import (
	"time"
)

// While the gate's clock is not known to be right (a board back in 1970
// before NTP has set it, or a clock before clock.trusted_after), a
// command's issued_at and expires_at cannot be judged against it: a clock
// behind would take expired commands, one ahead would refuse every
// command. Such a command is judged by its signature, its shape and its
// nonce alone (docs/uplink.md "Commands while the clock is not
// synchronised"), and the gate's clock_unsynced alarm is on meanwhile.
// Two rules keep a replay out:
//
//   - no nonce is forgotten while the clock is not trusted, and a
//     remembered nonce is refused whatever its expiry;
//   - a command that expired (with the skew) before the latest time the
//     nonce cache forgot expired nonces is refused as replayed: its nonce
//     may have been forgotten.
//
// The floor (a nonce cache that was lost) applies as ever: it compares the
// command with a time the gate stamped earlier, not with now.

// verifyUnsynced judges a command's times when the clock is not trusted.
func verifyUnsynced(c *Command, p verifyPolicy) error {
	switch {
	case !p.pruned.IsZero() && !c.ExpiresAt.Add(p.skew).After(p.pruned):
		return refuse(RefuseReplayed, "expired at %s, before the gate last forgot used nonces (%s); the gate's clock is not synchronised", c.ExpiresAt.Format(time.RFC3339), p.pruned.Format(time.RFC3339))
	case !p.floor.IsZero() && c.IssuedAt.Before(p.floor):
		return refuse(RefuseReplayed, "issued before %s, when the nonce cache was lost", p.floor.Format(time.RFC3339))
	}
	return nil
}

// clockSynced is whether the gate's clock is known to be right (true when
// the gate does not watch its clock: Deps.ClockState nil).
func (u *Uplink) clockSynced() bool {
	return u.deps.ClockState == nil || u.deps.ClockState().Synced
}

// prunedTime returns the latest time up to which expired nonces were
// forgotten.
func (c *nonceCache) prunedTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pruned
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ClockStatus is the gate's clock in the status: whether it is known to be
// right, what says so, why not, and when it was last looked at.
type ClockStatus struct {
	Synced    bool   `json:"synced"`
	Source    string `json:"source"`           // kernel, none, sim
	Reason    string `json:"reason,omitempty"` // kernel_unsynced, before_trusted_after, source_failed, not_checked
	CheckedAt string `json:"checked_at,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// clockStatus is the status's clock section; nil when the gate does not
// watch its clock.
func (u *Uplink) clockStatus() *ClockStatus {
	if u.deps.ClockState == nil {
		return nil
	}
	s := u.deps.ClockState()
	cs := &ClockStatus{Synced: s.Synced, Source: s.Source, Reason: s.Reason, Detail: s.Detail}
	if !s.Checked.IsZero() {
		cs.CheckedAt = s.Checked.In(u.cfg.Location).Format(time.RFC3339)
	}
	return cs
}
