package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hazgate/hazgate/store"
)

// OpenArgs are the arguments of cmd/open.
type OpenArgs struct {
	Lane string `json:"lane"`
}

// LockdownArgs are the arguments of cmd/lockdown.
type LockdownArgs struct {
	On *bool `json:"on"`
}

// EvacuateArgs are the arguments of cmd/evacuate.
type EvacuateArgs struct {
	On *bool `json:"on"`
}

// ReleaseArgs are the arguments of cmd/release. InspectionID is required:
// a remote release names the held vehicle it lets through, and the lane
// refuses it unless that very inspection is held with the verdict review
// (Commander.Release).
type ReleaseArgs struct {
	Lane         string `json:"lane"`
	InspectionID string `json:"inspection_id"`
	Operator     string `json:"operator"`
	Reason       string `json:"reason"`
}

// handleCommand verifies a command, records its nonce and an audit entry,
// then carries it out. Anything refused raises a command_refused alarm.
func (u *Uplink) handleCommand(ctx context.Context, m inboxMsg) {
	name, _ := strings.CutPrefix(m.topic, u.cfg.Root+"/cmd/")
	if m.retained {
		// A retained command would be obeyed again by every new
		// connection until it expires; the nonce stops that, but a
		// retained command is a mistake worth refusing outright.
		u.refused(ctx, name, refuse(RefuseMalformed, "retained commands are not accepted"), 1)
		return
	}
	now := u.clk.Now()
	synced := u.clockSynced()
	c, key, err := u.keys.verify(m.payload, verifyPolicy{
		name: name, root: u.cfg.Root, now: now, skew: u.cfg.ClockSkew, ttl: u.cfg.CommandMaxTTL,
		floor: u.nonce.floorTime(), unsynced: !synced, pruned: u.nonce.prunedTime(),
	})
	if err != nil {
		u.refused(ctx, name, err, 1)
		return
	}
	run, err := u.commandFunc(c)
	if err != nil {
		u.refused(ctx, name, err, 1)
		return
	}
	if err := u.nonce.accept(c.Nonce, c.ExpiresAt.Add(u.cfg.ClockSkew), now, synced); err != nil {
		var re *RefusedError
		if !errors.As(err, &re) {
			// The cache could not be written: a command that cannot be
			// remembered could be replayed, so it is not obeyed.
			err = refuse(RefuseOverload, "%v", err)
		}
		u.refused(ctx, name, err, 1)
		return
	}
	actor := "office"
	if c.By != "" {
		actor = "office:" + c.By
	}
	detail := map[string]any{
		"topic": m.topic, "nonce": c.Nonce, "key": key, "target": c.Target, "args": c.Args,
		"issued_at": c.IssuedAt, "expires_at": c.ExpiresAt,
	}
	if !synced {
		detail["clock_synced"] = false // judged by its nonce alone
		u.log.Warn("command judged by its nonce alone: the gate's clock is not synchronised", "command", c.Name, "nonce", c.Nonce)
	}
	if err := u.st.Audit(ctx, actor, "command."+c.Name, u.cfg.Root, detail, now); err != nil {
		u.failed(ctx, c.Name, fmt.Errorf("not audited, so not carried out: %w", err))
		return
	}
	u.log.Info("command accepted", "command", c.Name, "by", c.By, "nonce", c.Nonce)
	if err := run(ctx); err != nil {
		u.failed(ctx, c.Name, err)
	}
}

// commandArgs checks a command's name and arguments and returns them
// decoded: *OpenArgs, *LockdownArgs, *ReleaseArgs, *ReplayArgs,
// *EvacuateArgs, or nil for resync.
func commandArgs(c *Command) (any, error) {
	decode := func(v any) error {
		if len(c.Args) == 0 || string(c.Args) == "null" {
			return refuse(RefuseBadArgs, "%s needs arguments", c.Name)
		}
		dec := json.NewDecoder(bytes.NewReader(c.Args))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return refuse(RefuseBadArgs, "%s: %v", c.Name, err)
		}
		return nil
	}
	switch c.Name {
	case CmdOpen:
		var a OpenArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if a.Lane == "" {
			return nil, refuse(RefuseBadArgs, "open needs a lane")
		}
		return &a, nil
	case CmdLockdown:
		var a LockdownArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if a.On == nil {
			return nil, refuse(RefuseBadArgs, `lockdown needs "on": true or false`)
		}
		return &a, nil
	case CmdRelease:
		var a ReleaseArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if a.Lane == "" || a.Operator == "" || a.Reason == "" {
			return nil, refuse(RefuseBadArgs, "release needs lane, operator and reason")
		}
		if strings.TrimSpace(a.InspectionID) == "" {
			return nil, refuse(RefuseBadArgs, "release needs the inspection_id of the held vehicle it lets through")
		}
		return &a, nil
	case CmdEvacuate:
		var a EvacuateArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if a.On == nil {
			return nil, refuse(RefuseBadArgs, `evacuate needs "on": true or false`)
		}
		return &a, nil
	case CmdResync:
		return nil, nil
	case CmdReplay:
		var a ReplayArgs
		if err := decode(&a); err != nil {
			return nil, err
		}
		if err := replayArgs(&a); err != nil {
			return nil, err
		}
		return &a, nil
	default:
		return nil, refuse(RefuseUnknown, "%q", c.Name)
	}
}

// commandFunc checks a verified command's arguments and returns what
// carries it out.
func (u *Uplink) commandFunc(c *Command) (func(context.Context) error, error) {
	args, err := commandArgs(c)
	if err != nil {
		return nil, err
	}
	cmd := u.deps.Commands
	var run func(context.Context) error
	switch a := args.(type) {
	case *OpenArgs:
		run = func(ctx context.Context) error { return cmd.Open(ctx, a.Lane, c.By) }
	case *LockdownArgs:
		run = func(ctx context.Context) error { return cmd.Lockdown(ctx, *a.On, c.By) }
	case *ReleaseArgs:
		run = func(ctx context.Context) error {
			return cmd.Release(ctx, a.Lane, a.InspectionID, a.Operator, a.Reason)
		}
	case *ReplayArgs:
		// The uplink's own: it needs no commander.
		return func(ctx context.Context) error { return u.replay(ctx, a) }, nil
	case *EvacuateArgs:
		ev, ok := cmd.(Evacuator)
		if !ok {
			return nil, refuse(RefuseNoCommander, "this gate takes no evacuate command")
		}
		run = func(ctx context.Context) error { return ev.Evacuate(ctx, *a.On, c.By) }
	default: // resync
		run = func(ctx context.Context) error {
			u.registry.request("command")
			u.StatusChanged()
			return cmd.Resync(ctx)
		}
	}
	if cmd == nil {
		return nil, refuse(RefuseNoCommander, "this gate takes no remote commands")
	}
	return run, nil
}

// refused logs a refused command and raises a command_refused alarm. The
// alarms are rate-limited by refusal reason, each reason with its own
// budget of RefusalAlarms a minute, so that a flood of one kind of garbage
// cannot hide another: a forgery (bad_signature: a trusted key, a signature
// that does not verify) is never held back. What is held back is counted,
// the counts kept in the store across restarts, and the next alarm of that
// reason says how many.
func (u *Uplink) refused(ctx context.Context, name string, err error, n int) {
	u.log.Warn("command refused", "command", name, "err", err, "n", n)
	reason := "other"
	var re *RefusedError
	if errors.As(err, &re) {
		reason = re.Reason
	}
	detail := fmt.Sprintf("cmd/%s: %v", name, strings.TrimPrefix(err.Error(), "uplink: command refused: "))
	if n > 1 {
		detail += fmt.Sprintf(" (%d messages)", n)
	}
	u.raiseLimited(ctx, AlarmCommandRefused+"/"+reason, AlarmCommandRefused, detail, n, reason == RefuseBadSignature, "refused as "+reason)
}

// failed raises a command_failed alarm for an accepted command that could
// not be carried out.
func (u *Uplink) failed(ctx context.Context, name string, err error) {
	u.log.Error("command failed", "command", name, "err", err)
	// The lanes say why in words after their package's "lanes: <name>: ".
	why := strings.TrimPrefix(err.Error(), "lanes: "+name+": ")
	if aerr := u.deps.Alarms.RaiseAlarm(ctx, "", AlarmCommandFailed, fmt.Sprintf("cmd/%s: %s", name, why), u.clk.Now()); aerr != nil {
		u.log.Error("command_failed alarm not recorded", "err", aerr)
	}
	u.Kick()
}

// raiseLimited raises an alarm of alarmKind under the rate limit, where
// budget names the allowance it draws on (each its own: a flood of one kind
// of garbage cannot hide another); n is how many messages it stands for,
// and always raises it whatever the budget says. What the budget held back
// since its last alarm, in memory and in the store, is added to the detail
// as "N more <heldWhat>", and taken off the store's count only once the
// alarm is recorded (a crash between reports it twice, never not at all).
func (u *Uplink) raiseLimited(ctx context.Context, budget, alarmKind, detail string, n int, always bool, heldWhat string) {
	now := u.clk.Now()
	if !always && !u.refusals.allow(budget, n, now) {
		return
	}
	held := u.refusals.take(budget)
	stored, serr := u.st.SuppressedAlarmsOf(ctx, budget)
	if serr != nil {
		// Reported by a later alarm, once the store answers.
		u.log.Error("counts of alarms held back by the rate limit not read", "err", serr)
		stored = store.SuppressedAlarms{}
	}
	if total := held + stored.Count; total > 0 {
		detail += fmt.Sprintf("; %d more %s without an alarm since the last one (rate limit)", total, heldWhat)
	}
	if aerr := u.deps.Alarms.RaiseAlarm(ctx, "", alarmKind, detail, now); aerr != nil {
		u.log.Error(alarmKind+" alarm not recorded", "err", aerr)
		u.refusals.putBack(map[string]int{budget: held}, now)
		return
	}
	if stored.Count > 0 {
		if err := u.st.ReportedSuppressedAlarms(ctx, budget, stored.Count); err != nil {
			// They will be reported again: a duplicate, never a loss.
			u.log.Error("counts of alarms held back by the rate limit not cleared", "err", err)
		}
	}
	u.Kick()
}
